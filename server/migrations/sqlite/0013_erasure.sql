-- Erasure and retention (docs/OPERATIONS.md, "Erasure and retention"). Erasing a receipt
-- deletes its row, its decision rows and, once the visitor has no receipt left on the
-- site, the visitor's row; its log leaf (position, receipt id, leaf hash), the tiles and
-- the checkpoints stay. Each erasure is recorded here, signed with the receipt key: what
-- was erased (receipt ids, log positions, leaf hashes, chain hashes), when, why and under
-- which case. `yinyom log verify` accepts a missing receipt only when a valid record names
-- it with the leaf hash the log holds.
create table erasures (
    erasure_id      text primary key,         -- UUIDv7
    site_id         text not null references sites (id),
    erased_at       integer not null,
    reason          text not null,            -- subject_request | retention
    case_reference  text,                     -- the data-subject request's reference
    receipts        integer not null,         -- how many receipts it erased
    record_json     text not null,            -- the signed record (JWS payload)
    jws             text not null
);
create index erasures_site on erasures (site_id, erased_at);

-- Days a consent record is kept after the consent ends (site file: [retention]
-- consent_records_days).
alter table sites add column retention_days integer not null default 3650;
