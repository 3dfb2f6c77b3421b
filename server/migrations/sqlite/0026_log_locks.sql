-- The lock a log append takes: one row per site, upserted first by every sequencer
-- transaction. On SQLite the first write takes the database's one writer lock, as the
-- no-op update of the site's `sites` row did before; the table exists so that both stores
-- run the same statements (on PostgreSQL the row lock replaces the `sites` row, which
-- every receipt's foreign-key check locks). Nothing references this table.
create table log_locks (
    site_id text primary key
);
