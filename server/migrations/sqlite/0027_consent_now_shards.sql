-- `consent_now` keeps a key's count in shards, as on PostgreSQL (store/heads.rs,
-- `next_shard`), where each receipt group adds to the next shard so that concurrent
-- writers do not wait on one row. SQLite has one writer and always adds to shard 0; the
-- column is here so that both stores run the same statements. SQLite cannot change a
-- primary key in place: the table is made again, its counts in shard 0.
create table consent_now_sharded (
    site_id     text not null,
    until_day   integer not null,            -- Thailand day of valid_until, days since 1970
    withdrawn   integer not null,            -- 1: the latest receipt is a withdrawal
    version     text not null,               -- its notice version
    mixed       integer not null,            -- 1: an earlier receipt under another version
    choice      text not null,               -- its decisions
    n           integer not null,            -- visitors (a shard's share; add the shards up)
    shard       integer not null default 0,
    primary key (site_id, until_day, withdrawn, version, mixed, choice, shard)
);
insert into consent_now_sharded (site_id, until_day, withdrawn, version, mixed, choice, n, shard)
    select site_id, until_day, withdrawn, version, mixed, choice, n, 0 from consent_now;
drop table consent_now;
alter table consent_now_sharded rename to consent_now;
