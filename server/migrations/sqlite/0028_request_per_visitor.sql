-- A request id is the widget's idempotency key for one visitor: a retry comes from the
-- same visitor, so the writer finds it among that visitor's receipts (by
-- receipts_subject_latest, which it reads anyway), and the same id from another visitor
-- is another request. The site-wide unique index on (site_id, request_id) goes: keyed by a
-- random UUID, it cost every receipt a write to a random page of a b-tree as large as the
-- table's count (about 40 % of the bytes the writer wrote per receipt) and about 60 bytes
-- of storage. SQLite cannot drop a UNIQUE constraint in place: the table is made again
-- (rows keep their rowids), with its indexes. On a large file this takes a while, about
-- half a minute per million receipts.
create table receipts_new (
    receipt_id        text primary key,     -- UUIDv7
    site_id           text not null references sites (id),
    request_id        text not null,        -- the widget's idempotency key, per visitor
    subject_id        text not null,
    issued_at         integer not null,
    event             text not null,
    method            text not null,
    notice_version    text not null,
    consent_revision  integer not null,
    receipt_json      text not null,        -- canonical JSON of the Receipt (what was signed)
    jws               text not null,
    template_id       integer references receipt_templates (id),
    packed            blob,
    choice            text not null default ''
);
insert into receipts_new (rowid, receipt_id, site_id, request_id, subject_id, issued_at, event,
                          method, notice_version, consent_revision, receipt_json, jws,
                          template_id, packed, choice)
    select rowid, receipt_id, site_id, request_id, subject_id, issued_at, event,
           method, notice_version, consent_revision, receipt_json, jws,
           template_id, packed, choice
    from receipts order by rowid;
drop table receipts;
alter table receipts_new rename to receipts;
create index receipts_site_method on receipts (site_id, method, issued_at);
create index receipts_site_time_id on receipts (site_id, issued_at, receipt_id);
create index receipts_subject_latest on receipts (site_id, subject_id, issued_at, receipt_id);
