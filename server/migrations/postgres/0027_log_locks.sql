-- The lock a log append takes: one row per site, locked (upserted) by every sequencer
-- transaction, so two sequencers never interleave a site's log. It used to be the site's
-- own `sites` row (a no-op update); but receipts, subjects and log leaves reference that
-- row, and every insert's foreign-key check locks it in KEY SHARE mode. An update of it
-- each sequencer turn made those checks follow the new row version and share the lock
-- through multixacts, and under load receipts stalled behind it (p99 26 ms at 1,000
-- receipts/s; with this table 11 ms at 3,000/s). Nothing references this table.
create table log_locks (
    site_id text primary key
);
