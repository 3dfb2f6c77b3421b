-- Several processes, one database; and a store that can fail.

-- /readyz writes this row to learn whether the store can commit (a full disk, a read-only
-- file system or a standby after failover fail here first).
create table store_probe (
    id          bigint primary key,
    checked_at  bigint not null
);
insert into store_probe (id, checked_at) values (1, 0);

-- One row per visitor of a site. The receipt writer inserts it in the transaction that
-- stores the visitor's receipt: the insert that creates it makes that receipt the first
-- (given/refused), every later one is an update, even when two processes write the first
-- choices of one visitor at the same moment (the unique key makes the second wait).
create table subjects (
    site_id     text not null references sites (id),
    subject_id  text not null,
    first_at    bigint not null,
    primary key (site_id, subject_id)
);
insert into subjects (site_id, subject_id, first_at)
    select site_id, subject_id, min(issued_at) from receipts group by site_id, subject_id;

-- Fleet-wide duties held by one process at a time (the log sequencer): a lease renewed
-- by its holder, taken over by another process once it has expired.
create table leases (
    name        text primary key,
    holder      text not null,
    until_ms    bigint not null
);

-- Receipt-post rate limits shared by every process (PostgreSQL; SQLite is one process):
-- per client, the theoretical arrival time of the next request (GCRA). Unlogged: no WAL,
-- no fsync per check; after a crash the table is empty, which only forgives clients.
create unlogged table rate_limits (
    client      text primary key,
    tat_ms      bigint not null
);

-- Signing keys: a rotated-in key is published at once and signs only from activates_at
-- (after every cached JWKS has seen it); the key it replaces signs until then
-- (retired_at = the successor's activates_at). generation orders keys and makes two
-- simultaneous rotations (or two first starts) collide instead of both creating a key.
alter table signing_keys add column activates_at bigint not null default 0;
alter table signing_keys add column generation bigint not null default 0;
update signing_keys set activates_at = created_at;
update signing_keys set generation = (
    select count(*) from signing_keys k
    where k.created_at < signing_keys.created_at
       or (k.created_at = signing_keys.created_at and k.kid <= signing_keys.kid));
create unique index signing_keys_generation on signing_keys (generation);
