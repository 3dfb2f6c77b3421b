-- The log sequencer's work per receipt. A queued receipt now carries its leaf hash
-- (RFC 6962, over its canonical JSON), written with the receipt, where the JSON is at
-- hand: the sequencer no longer unpacks and parses every receipt it appends (its counts
-- come from the receipt's `choice`). Entries queued before this migration have none;
-- the sequencer reads their JSON as before. Removed when the receipt is appended.
alter table log_pending add column leaf_hash bytea;
