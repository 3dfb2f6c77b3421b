-- The DPO console: accounts, per-site roles, sessions, API tokens, sign-in throttling,
-- the audit log, and one row per decision so receipts can be searched and counted.

create table users (
    id             integer primary key,
    email          text not null unique,
    password_hash  text not null,            -- argon2id PHC string
    role           text not null,            -- admin | dpo | auditor
    created_at     integer not null
);

-- Sites a dpo or auditor may see (an admin sees every site).
create table user_sites (
    user_id  integer not null references users (id),
    site_id  text not null references sites (id),
    primary key (user_id, site_id)
);

create table sessions (
    token_hash  text primary key,            -- SHA-256 of the cookie value
    user_id     integer not null references users (id),
    csrf        text not null,
    created_at  integer not null,
    expires_at  integer not null
);

create table api_tokens (
    token_hash  text primary key,            -- SHA-256 of the token (shown once)
    name        text not null,
    user_id     integer not null references users (id),
    created_at  integer not null,
    last_used   integer
);

-- Failed sign-ins, for throttling (by e-mail and by address).
create table login_failures (
    key  text not null,
    at   integer not null
);
create index login_failures_key on login_failures (key, at);

-- Append-only: who did what, on which site, when, from where.
create table audit_log (
    id        integer primary key,
    at        integer not null,
    actor     text not null,                 -- e-mail, or token:<name>
    action    text not null,                 -- e.g. receipt.view, receipts.export, notice.publish
    site_id   text,
    detail    text not null,
    client    text not null
);
create index audit_log_site on audit_log (site_id, at);

-- One row per decision of a receipt, for search by category + decision and statistics.
create table receipt_decisions (
    receipt_id  text not null,
    site_id     text not null,
    kind        text not null,               -- category | purpose
    item        text not null,
    granted     integer not null,            -- 1 or 0
    primary key (receipt_id, kind, item)
);
create index receipt_decisions_search on receipt_decisions (site_id, kind, item, granted);
create index receipts_site_method on receipts (site_id, method, issued_at);

-- Receipts written before this migration.
insert into receipt_decisions (receipt_id, site_id, kind, item, granted)
select r.receipt_id, r.site_id, 'category', j.key, j.value
from receipts r, json_each(r.receipt_json, '$.categories') j;
insert into receipt_decisions (receipt_id, site_id, kind, item, granted)
select r.receipt_id, r.site_id, 'purpose', j.key, j.value
from receipts r, json_each(r.receipt_json, '$.purposes') j;
