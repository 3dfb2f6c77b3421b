-- The log's queue: receipts not yet appended to their site's log, in the order the
-- sequencer takes them. It replaces receipts.log_seq: setting that column rewrote every
-- receipt row (JSON and signature included) a second time, which doubled the writes and
-- held the write lock long enough to delay receipts by ~80 ms. A leaf's position is in
-- log_leaves (one row per receipt).
create table log_pending (
    receipt_id  text primary key,
    site_id     text not null,
    issued_at   integer not null
);
create index log_pending_order on log_pending (site_id, issued_at, receipt_id);

insert into log_pending (receipt_id, site_id, issued_at)
    select receipt_id, site_id, issued_at from receipts where log_seq is null;

drop index receipts_unsequenced;
alter table receipts drop column log_seq;
