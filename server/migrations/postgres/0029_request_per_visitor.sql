-- A request id is the widget's idempotency key for one visitor: a retry comes from the
-- same visitor, so the writer finds it among that visitor's receipts (by
-- receipts_subject_latest, after locking the visitor's row), and the same id from another
-- visitor is another request. The site-wide unique index on (site_id, request_id) goes:
-- keyed by a random UUID, it cost every receipt a write to a random page (and a full-page
-- image in the WAL after each checkpoint) and about 60 bytes of storage.
alter table receipts drop constraint receipts_site_id_request_id_key;
