-- Yinyom schema, PostgreSQL dialect. Never edit an applied migration: add a new one.
-- Times are unix milliseconds (integer) in both dialects so queries stay the same shape.

-- A site that may embed the widget. Rewritten by `yinyom sites import`.
create table sites (
    id            text primary key,
    name_json     text not null,            -- Text {th, en}
    origins_json  text not null,            -- ["https://…", …]
    created_at    bigint not null,
    updated_at    bigint not null
);

-- Every published notice version. Immutable: a new content is a new row.
create table notice_versions (
    site_id          text not null references sites (id),
    version          text not null,
    seq              bigint not null,      -- 1, 2, 3… per site; the highest is current
    consent_revision bigint not null,
    sha256           text not null,         -- of the canonical JSON in content_json
    content_json     text not null,         -- canonical JSON of the Notice
    published_at     bigint not null,
    primary key (site_id, version),
    unique (site_id, seq)
);

-- Ed25519 signing keys. The newest non-retired key signs; all stay in the JWKS.
create table signing_keys (
    kid          text primary key,          -- RFC 7638 JWK thumbprint
    secret_key   bytea not null,             -- 32-byte Ed25519 seed
    public_key   bytea not null,
    created_at   bigint not null,
    retired_at   bigint
);

-- Consent receipts. Append-only: never updated, never deleted (except by retention).
create table receipts (
    receipt_id        text primary key,     -- UUIDv7
    site_id           text not null references sites (id),
    request_id        text not null,        -- the widget's idempotency key
    subject_id        text not null,
    issued_at         bigint not null,
    event             text not null,
    method            text not null,
    notice_version    text not null,
    consent_revision  bigint not null,
    receipt_json      text not null,        -- canonical JSON of the Receipt (what was signed)
    jws               text not null,
    unique (site_id, request_id)
);
create index receipts_subject on receipts (site_id, subject_id, issued_at);
create index receipts_site_time on receipts (site_id, issued_at);
