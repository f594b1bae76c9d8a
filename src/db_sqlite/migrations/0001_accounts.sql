-- Accounts, sessions, API keys and the ingestion poller's cursor.
-- Timestamps are RFC 3339 UTC text with milliseconds ('2025-10-12T17:33:48.123Z'): readable, and they sort
-- and compare correctly as text because every value has the same width.

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- The session id itself never reaches the database: only its SHA-256, so a copy of this file does not
-- contain live sessions. Deleting a user ends their sessions through the cascade.
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Keys are stored as SHA-256 hex (a 64-character random key needs no slow hash); key_prefix lets a
-- person recognise a key in lists.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- One row: the key (8-byte big-endian) of the last write-ahead-log record the poller committed to DuckDB.
CREATE TABLE poller_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_key BLOB NOT NULL CHECK (length(last_key) = 8),
  updated_at TEXT NOT NULL
);
