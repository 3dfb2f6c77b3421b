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
