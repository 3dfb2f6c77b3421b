-- log_pending is a queue: every receipt is inserted and, a second later, deleted. With
-- the default autovacuum settings its dead rows piled up by the hundred thousand between
-- vacuums (and its statistics went stale), which made the console's count of queued
-- receipts read them all. Vacuum and analyze it after every few thousand changes.
alter table log_pending set (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 5000
);
