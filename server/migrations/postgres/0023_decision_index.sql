-- Bytes per receipt. A receipt's decision rows were found through their primary key
-- (receipt, kind, item), which keeps the receipt's id once per decision: 171 of the
-- 1,963 bytes a receipt took (two decisions each, 50,000 receipts). A plain index on the
-- receipt keeps each id once with the places of all its rows (PostgreSQL's
-- deduplication of equal keys). Every reader finds the rows by receipt, and the store
-- writes each decision of a receipt once (SQLite keeps the key: its table is that key).
alter table receipt_decisions drop constraint receipt_decisions_pkey;
create index receipt_decisions_receipt on receipt_decisions (receipt_id);
