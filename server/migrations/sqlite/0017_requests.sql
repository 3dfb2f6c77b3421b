-- Data-subject requests (PDPA s.30-36): one row per case. The visitor is their pseudonym
-- (never the secret their browser holds). `reference` is `<Buddhist-era year>-<number>`,
-- numbered per site and year, read over the phone; `due` is the Thailand-time day the
-- answer is due (30 days after receipt).
create table subject_requests (
    site_id          text not null references sites(id),
    reference        text not null,
    be_year          bigint not null,
    number           bigint not null,
    subject_id       text not null,
    kind             text not null,
    channel          text not null,
    status           text not null,
    message          text,
    contact          text,
    identity_check   text,
    received_at      bigint not null,
    due              text not null,
    closed_at        bigint,
    outcome_reason   text,
    primary key (site_id, reference),
    unique (site_id, be_year, number)
);
create index subject_requests_subject on subject_requests (site_id, subject_id);
create index subject_requests_due on subject_requests (site_id, due);
