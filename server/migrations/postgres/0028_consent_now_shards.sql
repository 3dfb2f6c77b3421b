-- `consent_now` keeps a key's count in shards: each receipt group on PostgreSQL adds to
-- the next shard (store/heads.rs, `next_shard`), so the receipt writers' transactions,
-- which all touch today's few keys, no longer wait for each other's commit on one row
-- lock. The readers add the shards up. The counts so far are shard 0.
alter table consent_now add column shard bigint not null default 0;
alter table consent_now drop constraint consent_now_pkey;
alter table consent_now add primary key (site_id, until_day, withdrawn, version, mixed, choice, shard);
