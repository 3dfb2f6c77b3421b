-- Bytes per receipt. A receipt row keeps its JWS without the payload ("header..signature",
-- the detached form of RFC 7515 appendix F): the payload is the row's canonical JSON in
-- base64url, so the store puts it back when it reads the row (store/receipts.rs
-- `attach_jws`) and the JWS a visitor was given comes back byte for byte. Rows written
-- before keep only their header and signature from now on; the signature still covers
-- the JSON, so `log verify` and `receipts verify` catch any change to it as before.
update receipts
set jws = split_part(jws, '.', 1) || '..' || split_part(jws, '.', 3)
where position('..' in jws) = 0;
-- receipts_subject_latest (site, visitor, time, id) answers everything this one did.
drop index receipts_subject;
-- Consent now. Each visitor's latest choice on a site (its head) is kept on its
-- `subjects` row, written in the receipt's own transaction (store/heads.rs): when its
-- validity ends, whether it is a withdrawal, its notice version, whether an earlier
-- receipt was made under another version, its decisions (`c:<id>=1 p:<id>=0`).
-- `consent_now` counts the heads per (Thailand day the validity ends, withdrawal,
-- version, earlier other version, decisions): the statistics add up these few rows and
-- read one by one only the heads whose validity ends today. Existing visitors get their
-- head at the first start after this migration (`Store::backfill_heads`), which fills
-- every head still empty from the receipts; a head is empty only until then.
alter table subjects add column head_until bigint;
alter table subjects add column head_withdrawn bigint;
alter table subjects add column head_version text;
alter table subjects add column head_mixed bigint;
alter table subjects add column head_choice text;
create index subjects_head_until on subjects (site_id, head_until);
create table consent_now (
    site_id     text not null,
    until_day   bigint not null,            -- Thailand day of valid_until, days since 1970
    withdrawn   bigint not null,            -- 1: the latest receipt is a withdrawal
    version     text not null,               -- its notice version
    mixed       bigint not null,            -- 1: an earlier receipt under another version
    choice      text not null,               -- its decisions
    n           bigint not null,            -- visitors
    primary key (site_id, until_day, withdrawn, version, mixed, choice)
);
