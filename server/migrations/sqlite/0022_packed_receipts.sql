-- Bytes per receipt (store/packing.rs). Receipts of one site, notice version and signing
-- key share most of their JSON and all of their JWS header. The first such receipt
-- writes a template: that receipt with everything about its visitor blanked (ids, chain
-- link, paper form, guardian, case reference, page path; times cut to the day), and the
-- JWS header. The receipts after it keep their canonical JSON zstd-compressed against
-- the template (`packed`; `receipt_json` is then empty) and their JWS as `..signature`.
-- Reading puts both back byte for byte. Rows written before keep their plain JSON.
create table receipt_templates (
    id              integer primary key,
    site_id         text not null references sites (id),
    notice_version  text not null,
    header          text not null,           -- the JWS protected header, base64url
    template        blob not null,           -- the zstd dictionary (raw content)
    created_at      integer not null,
    unique (site_id, notice_version, header)
);
alter table receipts add column template_id integer references receipt_templates (id);
alter table receipts add column packed blob;
