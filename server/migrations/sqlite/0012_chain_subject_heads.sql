-- Each visitor's receipts on a site form a chain: a receipt names the hash of the same
-- visitor's previous receipt (base64url of the SHA-256 of its canonical JSON). The newest
-- receipt's hash is kept here, updated in the transaction that writes the receipt while
-- the visitor's row is locked, so no two processes can fork a chain. Existing visitors
-- start with none: their next receipt starts the chain (receipts made before this
-- migration carry no `previous`).
alter table subjects add column last_receipt text;
