-- Consent now (statistics): each visitor's latest receipt is found by walking this index
-- alone (site, visitor, newest time, and the receipt id that breaks a tie), without
-- reading the receipts' rows until the latest ones are known.
create index receipts_subject_latest on receipts (site_id, subject_id, issued_at, receipt_id);
