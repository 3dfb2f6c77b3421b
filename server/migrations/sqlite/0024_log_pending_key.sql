-- Bytes per receipt. The log's queue kept two b-trees: its key (receipt) and the order
-- the sequencer reads it in (site, issue time, receipt). The sequencer also deletes what
-- it appended by that order, and every other reader finds a receipt's entry with its
-- site and issue time, so the order is now the key and the only b-tree (WITHOUT ROWID:
-- the table is that key).
create table log_pending_new (
    site_id     text not null,
    issued_at   integer not null,
    receipt_id  text not null,
    primary key (site_id, issued_at, receipt_id)
) without rowid;
insert into log_pending_new (site_id, issued_at, receipt_id)
    select site_id, issued_at, receipt_id from log_pending;
drop table log_pending;
alter table log_pending_new rename to log_pending;
