-- Service tokens and webhooks.

-- A `service` token belongs to no account: it is scoped to one site and answers only the
-- consent-check API. Account tokens keep `role` and `site_id` empty.
alter table api_tokens alter column user_id drop not null;
alter table api_tokens add column role text;      -- `service`, or empty: the account's role
alter table api_tokens add column site_id text references sites (id);

-- Where a site's events are sent (Standard Webhooks). The secret signs; it is shown once
-- when the endpoint is added and never logged or listed.
create table webhook_endpoints (
    id          bigserial primary key,
    site_id     text not null references sites (id),
    url         text not null,
    secret      text not null,               -- whsec_<base64>
    created_at  bigint not null,
    removed_at  bigint
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
    created_at  bigint not null
);

-- One delivery per event and endpoint. A worker claims due deliveries (FOR UPDATE SKIP
-- LOCKED, and a lease), sends them, then records the outcome.
create table webhook_deliveries (
    id            bigserial primary key,     -- enqueue order
    event_id      text not null references webhook_events (id),
    endpoint_id   bigint not null references webhook_endpoints (id),
    subject       text not null,
    status        text not null,             -- pending | delivered | failed
    attempts      bigint not null,
    next_at       bigint not null,           -- not tried before (unix ms)
    lease_until   bigint,                    -- claimed by a worker until (unix ms)
    last_status   bigint,                    -- HTTP status of the last attempt
    last_error    text,
    delivered_at  bigint,
    created_at    bigint not null
);
create index webhook_deliveries_due on webhook_deliveries (status, next_at);
create index webhook_deliveries_order on webhook_deliveries (endpoint_id, subject, status, id);
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, id);
