-- Sign-in attempts inside the rate-limit windows, so that a restart does not reset the limits. A row is
-- one attempt of one limiter (`scope`: email, ip or device) for one key, stored as the key's SHA-256:
-- the table holds no email or address in clear. Rows older than their window are deleted as new ones
-- arrive.
CREATE TABLE sign_in_attempts (
  scope TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX sign_in_attempts_key ON sign_in_attempts (scope, key_hash, at_ms);
CREATE INDEX sign_in_attempts_age ON sign_in_attempts (scope, at_ms);
