-- Service tokens and webhooks.

-- A `service` token belongs to no account: it is scoped to one site and answers only the
-- consent-check API. `api_tokens` is rebuilt so `user_id` may be empty (SQLite cannot
-- drop a NOT NULL in place); account tokens keep `role` and `site_id` empty.
create table api_tokens_new (
    token_hash  text primary key,            -- SHA-256 of the token (shown once)
    name        text not null,
    user_id     integer references users (id),  -- empty for a service token
    created_at  integer not null,
    last_used   integer,
    expires_at  integer,
    revoked_at  integer,
    role        text,                        -- `service`, or empty: the account's role
    site_id     text references sites (id)   -- a service token's one site
);
insert into api_tokens_new (token_hash, name, user_id, created_at, last_used, expires_at, revoked_at)
select token_hash, name, user_id, created_at, last_used, expires_at, revoked_at from api_tokens;
drop table api_tokens;
alter table api_tokens_new rename to api_tokens;

-- Where a site's events are sent (Standard Webhooks). The secret signs; it is shown once
-- when the endpoint is added and never logged or listed.
create table webhook_endpoints (
    id          integer primary key,
    site_id     text not null references sites (id),
    url         text not null,
    secret      text not null,               -- whsec_<base64>
    created_at  integer not null,
    removed_at  integer
);
create index webhook_endpoints_site on webhook_endpoints (site_id, removed_at);

-- The outbox: one row per event, written in the transaction that made it (a receipt, a
-- data-subject request), only while the site has an endpoint.
create table webhook_events (
    id          text primary key,            -- msg_<uuid v7>: the `webhook-id` header
    site_id     text not null,
    type        text not null,               -- consent.recorded, consent.withdrawn, …
    subject     text not null,               -- events of one subject are delivered in order
    payload     text not null,               -- the body, exactly as sent
    created_at  integer not null
);

-- One delivery per event and endpoint. A worker claims a due delivery by setting
-- `lease_until` (one statement), sends it, then records the outcome.
create table webhook_deliveries (
    id            integer primary key,       -- enqueue order
    event_id      text not null references webhook_events (id),
    endpoint_id   integer not null references webhook_endpoints (id),
    subject       text not null,
    status        text not null,             -- pending | delivered | failed
    attempts      integer not null,
    next_at       integer not null,          -- not tried before (unix ms)
    lease_until   integer,                   -- claimed by a worker until (unix ms)
    last_status   integer,                   -- HTTP status of the last attempt
    last_error    text,
    delivered_at  integer,
    created_at    integer not null
);
create index webhook_deliveries_due on webhook_deliveries (status, next_at);
create index webhook_deliveries_order on webhook_deliveries (endpoint_id, subject, status, id);
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, id);
