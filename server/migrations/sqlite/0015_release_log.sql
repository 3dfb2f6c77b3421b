-- The release log: every record-level export of consent receipts, with who released
-- them, under which access tier, for what purpose, on which reference (a memo or letter
-- number) and how many records. Read by the site's DPO and auditor; rows are never
-- changed.

create table release_log (
    id         integer primary key,
    at         integer not null,             -- unix ms
    actor      text not null,                -- e-mail, or token:<name>
    role       text not null,                -- admin | dpo | agency
    tier       integer not null,             -- access tier (1 = internal unit)
    site_id    text not null references sites (id),
    format     text not null,                -- csv | jsonl | kantara | iso27560
    purpose    text not null,
    reference  text not null,
    records    integer not null,
    client     text not null
);

create index release_log_site on release_log (site_id, id);
