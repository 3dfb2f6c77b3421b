-- The log in C2SP formats (c2sp.org/tlog-checkpoint, tlog-tiles, tlog-cosignature,
-- tlog-witness). A leaf is now plain RFC 6962 over the receipt's canonical JSON, H(0x00 ||
-- receipt_json), without its position; checkpoints are signed notes; the tree is kept as
-- hash tiles so that proofs read O(log n) rows.
--
-- Existing logs are rebuilt once: their leaves and JSON/JWS checkpoints go, every receipt
-- goes back to the sequencer's queue (oldest first, as before), and the per-day counts,
-- which the sequencer adds to as it appends, start again from zero (until a receipt is
-- appended again the console counts it from log_pending, so its totals stay exact).

delete from log_leaves;
drop table log_checkpoints;

create table log_checkpoints (
    site_id        text not null references sites (id),
    tree_size      bigint not null,
    root_hash      bytea not null,
    frontier_json  text not null,            -- hex roots of the perfect subtrees, largest first
    issued_at      bigint not null,
    note           text not null,            -- the checkpoint as a signed note (log signature)
    primary key (site_id, tree_size)
);

-- C2SP hash tiles: tile (level, idx) holds up to 256 hashes of 32 bytes; it grows until
-- full and is never changed below its current width.
create table log_tiles (
    site_id  text not null,
    level    bigint not null,
    idx      bigint not null,
    hashes   bytea not null,
    primary key (site_id, level, idx)
);

-- Witnesses' cosignatures (c2sp.org/tlog-cosignature) on our checkpoints.
create table log_cosignatures (
    site_id      text not null,
    tree_size    bigint not null,
    witness      text not null,              -- the witness's vkey
    line         text not null,              -- its signature line, as the witness sent it
    received_at  bigint not null,
    primary key (site_id, tree_size, witness)
);

-- `yinyom witness serve`: the newest checkpoint it cosigned, per log it follows.
create table witness_checkpoints (
    origin      text primary key,
    tree_size   bigint not null,
    root_hash   bytea not null,
    note        text not null,               -- the checkpoint with the log's signature and ours
    updated_at  bigint not null
);

delete from receipt_counts;
insert into log_pending (receipt_id, site_id, issued_at)
    select receipt_id, site_id, issued_at from receipts where true
    on conflict (receipt_id) do nothing;
