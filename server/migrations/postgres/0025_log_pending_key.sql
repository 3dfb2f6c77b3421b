-- Bytes per receipt. The log's queue kept two indexes: its key (receipt) and the order
-- the sequencer reads it in (site, issue time, receipt). Every entry is deleted a second
-- after it is written, but an index does not give back its pages: after a backlog (the
-- sequencer stopped, or a bulk import) both stay at the size of the longest queue, 137
-- bytes a receipt after 1,000,000 queued at once. The sequencer also deletes what it
-- appended by that order, and every other reader finds a receipt's entry with its site
-- and issue time, so the order is now the key and the only index.
alter table log_pending drop constraint log_pending_pkey;
drop index log_pending_order;
alter table log_pending add primary key (site_id, issued_at, receipt_id);
