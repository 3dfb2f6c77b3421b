-- Tamper-evident log: per site, every receipt is a leaf of an RFC 6962 Merkle tree.
-- A sequencer appends unsequenced receipts in batches and signs a checkpoint per batch.

-- Position of the receipt in its site's log; null until the sequencer has appended it.
-- This is the only column of a receipt that is ever set after insert.
alter table receipts add column log_seq integer;
create index receipts_unsequenced on receipts (site_id, issued_at, receipt_id) where log_seq is null;

create table log_leaves (
    site_id     text not null references sites (id),
    seq         integer not null,            -- 0, 1, 2… per site
    receipt_id  text not null,
    leaf_hash   blob not null,               -- H(0x00 || seq as 8 bytes BE || receipt_json)
    primary key (site_id, seq),
    unique (receipt_id)
);

create table log_checkpoints (
    site_id        text not null references sites (id),
    tree_size      integer not null,
    root_hash      blob not null,
    frontier_json  text not null,            -- hex roots of the perfect subtrees, largest first
    issued_at      integer not null,
    checkpoint_json text not null,           -- canonical JSON that was signed
    jws            text not null,
    primary key (site_id, tree_size)
);
