-- Notice uploads from the console waiting for the DPO's confirmation (step 2 of
-- publishing). The uploaded files stay here, never trusted twice from the browser; an
-- upload belongs to the session that made it, expires, and is used once.
create table pending_publications (
    id_hash     text primary key,            -- SHA-256 of the id in the confirmation form
    owner_hash  text not null,               -- SHA-256 of the session (or token) that uploaded
    site_id     text not null references sites (id),
    site_toml   text not null,
    notice_th   text,
    notice_en   text,
    expires_at  integer not null
);
