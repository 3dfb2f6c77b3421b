-- An agency's own reference for a person (data-yinyom-reference on a form, or the
-- reference staff type in with a paper consent), linked to the receipts' subject. Only a
-- keyed hash is kept: hex(HMAC-SHA256(a key derived from the subject key, site, reference)),
-- never the reference itself. One reference may link several subjects (two browsers);
-- erasing a subject removes its links.
create table subject_references (
    site_id         text not null references sites(id),
    reference_hash  text not null,
    subject_id      text not null,
    linked_at       bigint not null,
    primary key (site_id, reference_hash, subject_id)
);
create index subject_references_subject on subject_references (site_id, subject_id);
