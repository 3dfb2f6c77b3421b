-- Webhook secrets sealed at rest and rotated with an overlap. `secret` now holds
-- `sealed:v1:<base64 nonce ‖ ciphertext>` (XChaCha20-Poly1305 under a key derived from the
-- subject key, with the site and endpoint id as associated data); rows written before
-- this change hold `whsec_…` until `yinyom serve` seals them at its next start.
-- After `webhooks rotate` the old secret (sealed the same way) keeps signing beside the
-- new one until `previous_until` (unix ms).
alter table webhook_endpoints add column previous_secret text;
alter table webhook_endpoints add column previous_until bigint;
