-- The lock a log append takes: one row per site, locked (upserted) by every sequencer
-- transaction, so two sequencers never interleave a site's log. It used to be the site's
-- own `sites` row (a no-op update); but receipts, subjects and log leaves reference that
-- row, and every insert's foreign-key check locks it in KEY SHARE mode. An update of it
-- each sequencer turn made those checks follow the new row version and share the lock
-- through multixacts, and under load receipts stalled behind every sequencer turn, once
-- a second (see BENCHMARKS.md, eighth run). Nothing references this table.
create table log_locks (
    site_id text primary key
);
