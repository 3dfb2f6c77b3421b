-- Private signing keys leave the database: signing_keys keeps each key's public half, what
-- it signs (receipt or log) and its validity period (activates_at = not before,
-- retired_at = not after) only. Seeds stored by earlier versions wait in
-- legacy_signing_seeds until `yinyom keys export --out-dir DIR` writes them as PEM files
-- and deletes them; `yinyom serve` refuses to start while any remain.
create table legacy_signing_seeds (
    kid         text primary key,
    secret_key  blob not null
);
insert into legacy_signing_seeds (kid, secret_key) select kid, secret_key from signing_keys;
alter table signing_keys drop column secret_key;
alter table signing_keys add column purpose text not null default 'receipt';
drop index signing_keys_generation;
create unique index signing_keys_generation on signing_keys (purpose, generation);
