// The schema as version 2 binaries created it (schema.sql at that version,
// as 0.9.0 shipped it, and the version migrate then recorded), for the tests
// that upgrade such a database. Never edit: it is history.
#pragma once

inline constexpr const char* kSchemaVersion2 = R"sql(
-- CryptoPay Auth: the whole schema, at the version store.cc names.
--
-- Applied by `cryptopay-auth migrate` and at the start of `serve` to an empty
-- database; the version is kept in PRAGMA user_version. A database made by an
-- older binary is brought forward by the upgrade steps in store/store.cc
-- instead: a change here is also an upgrade step there.
-- Portable where it costs nothing, for a later PostgreSQL port: times are
-- integer Unix seconds, flags are INTEGER 0/1, and upserts use
-- INSERT ... ON CONFLICT, which both engines accept. AUTOINCREMENT (never
-- reuse a deleted user's id) is SQLite's spelling of an identity column.

CREATE TABLE IF NOT EXISTS users (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  email            TEXT    NOT NULL,            -- as entered, domain lower-cased
  email_key        TEXT    NOT NULL UNIQUE,     -- lower-cased: the lookup key
  password         TEXT,                        -- pbkdf2_sha256$...; NULL until set
  first_name       TEXT    NOT NULL DEFAULT '',
  last_name        TEXT    NOT NULL DEFAULT '',
  terms_accepted   INTEGER NOT NULL DEFAULT 0,
  email_verified   INTEGER NOT NULL DEFAULT 0,
  verified_at      INTEGER,                     -- opens the first-password window
  verified_ip      TEXT,                        -- the client address that verified it
  is_active        INTEGER NOT NULL DEFAULT 0,
  is_staff         INTEGER NOT NULL DEFAULT 0,
  is_superuser     INTEGER NOT NULL DEFAULT 0,
  date_joined      INTEGER NOT NULL,
  last_login       INTEGER,
  pin_hash         TEXT,                        -- pbkdf2_sha256$...; NULL = no PIN
  pin_failures     INTEGER NOT NULL DEFAULT 0,  -- wrong PINs in a row
  pin_locked_until INTEGER NOT NULL DEFAULT 0,
  pin_reset_until  INTEGER NOT NULL DEFAULT 0   -- set-pin/ needs no current_pin before this
);

-- One live code per (user, purpose); a new code replaces the row.
CREATE TABLE IF NOT EXISTS codes (
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  purpose    TEXT    NOT NULL,
  code_hash  TEXT    NOT NULL,                  -- HMAC-SHA256, hex: never the code
  new_email  TEXT,                              -- email_change: the address confirmed
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,        -- wrong guesses
  used_at    INTEGER,
  PRIMARY KEY (user_id, purpose)
);

-- Decoy codes (API.md §2, no enumeration): asking a code for an email with
-- no eligible account records one here, so that guesses at it are counted
-- like guesses at a real code. code_hash is of a code nobody was sent.
CREATE TABLE IF NOT EXISTS code_decoys (
  email_key  TEXT    NOT NULL,
  purpose    TEXT    NOT NULL,
  code_hash  TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (email_key, purpose)
);

-- Timestamps of events that limits count: code sends per (email, purpose),
-- failed logins per email.
CREATE TABLE IF NOT EXISTS throttle_events (
  id      INTEGER PRIMARY KEY,
  scope   TEXT    NOT NULL,                     -- "send:<purpose>", "login"
  subject TEXT    NOT NULL,                     -- the email key
  at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_events_lookup ON throttle_events (scope, subject, at);
-- (Pruning by age scans the table once a minute, from the mailer: cheaper than
-- one more index written by every request that records an event.)

-- Every JWT issued. A token with no row here is refused.
CREATE TABLE IF NOT EXISTS tokens (
  jti        TEXT    PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_type TEXT    NOT NULL,                  -- 'access' | 'refresh'
  family     TEXT    NOT NULL,                  -- jti of the refresh token token/obtain/ made
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  -- 1: revoked by its own rotation (token/refresh/) and nothing else, which
  -- is what the reuse grace looks at (API.md §4). Any later revocation of the
  -- token's family clears it.
  rotated    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tokens_family ON tokens (family);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (user_id);
CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at);

-- Sessions (API.md §9): one token/obtain/ and every token refreshed from it,
-- i.e. one family of tokens. A session is live while its newest refresh
-- token is neither revoked nor expired; that token's row says so, so every
-- revocation (rotation, logout, password change) stays an update of tokens
-- alone. WITHOUT ROWID: the id is the key, one B-tree fewer per session.
CREATE TABLE IF NOT EXISTS sessions (
  id           TEXT    PRIMARY KEY,               -- the family: jti of its first refresh token
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  refresh_jti  TEXT    NOT NULL,                  -- its newest refresh token
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,                  -- its latest obtain or refresh
  ip           TEXT    NOT NULL DEFAULT '',       -- the client address of that request
  user_agent   TEXT    NOT NULL DEFAULT ''        -- its User-Agent, at most 256 characters
) WITHOUT ROWID;
-- A user's sessions, most recently used first, from the index alone.
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id, last_used_at);

-- Mail to deliver, written in the transaction of the change it reports.
-- Plain INTEGER PRIMARY KEY (no AUTOINCREMENT: one page less per insert); the
-- Message-ID pairs the id with created_at, so a reused id is still unique.
-- A code mail names the code it carries (user, purpose, hash): the mailer
-- sends it only while that code is live, and marks it expired otherwise.
-- Subject and body are sealed (AES-256-GCM under a key derived from the
-- secret, BLOBs) so that codes are never at rest in clear; rows queued by
-- version 1 are plain text (sealed = 0).
-- The columns after sent_at came with version 2 (ALTER TABLE appends them).
CREATE TABLE IF NOT EXISTS outbox (
  id              INTEGER PRIMARY KEY,
  recipient       TEXT    NOT NULL,
  subject         TEXT    NOT NULL,             -- a BLOB when sealed
  body            TEXT    NOT NULL,             -- a BLOB when sealed; emptied once delivered or expired
  status          TEXT    NOT NULL DEFAULT 'pending',  -- pending | sent | failed | expired
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  kind            TEXT    NOT NULL DEFAULT 'notice',  -- 'code' | 'notice'; 'code' sorts first
  code_user_id    INTEGER,                      -- code mails: the codes row they carry
  code_purpose    TEXT,
  code_hash       TEXT,                         -- codes.code_hash: a newer code has another
  sealed          INTEGER NOT NULL DEFAULT 0    -- 1: subject and body are sealed
);
-- Due mail in sending order: codes before notices, then by due time.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, kind, next_attempt_at);
PRAGMA user_version = 2;  -- as `migrate` left it
)sql";
