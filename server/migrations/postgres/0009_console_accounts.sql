-- Accounts and tokens have a lifecycle; sign-in throttling is one row per key.

-- A disabled account cannot sign in, and its sessions and tokens stop working at once.
alter table users add column disabled_at bigint;

-- Tokens may expire, and are revoked rather than deleted (the list keeps them).
alter table api_tokens add column expires_at bigint;
alter table api_tokens add column revoked_at bigint;

-- Failed sign-ins per key (`email:…` or `addr:…`): an attempt is claimed here in one
-- statement before the password is checked, so parallel attempts cannot pass the limit.
create table login_throttle (
    key       text primary key,
    failures  bigint not null,           -- attempts counted in the current window
    last_at   bigint not null,           -- unix ms of the last counted attempt
    next_at   bigint not null            -- no attempt is checked before this (unix ms)
);
drop table login_failures;
