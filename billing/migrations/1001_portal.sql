-- Investor portal: sign-in credentials, TOTP second factor and the audit of sign-in attempts.
-- Owned by billing/src/portal; the ledger tables (0*.sql) are only read here, never changed.

CREATE TABLE portal_users (
  id             bigserial PRIMARY KEY,
  email          text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  -- scrypt$N$r$p$salt$hash: the salt is per user and the cost travels with the hash.
  password_hash  text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  role           text NOT NULL CHECK (role IN ('investor', 'staff')),
  investor_id    text REFERENCES investors(id),
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- An investor account sees exactly one investor; a staff account belongs to none.
  CHECK ((role = 'investor') = (investor_id IS NOT NULL))
);

CREATE TABLE portal_totp (
  user_id       bigint PRIMARY KEY REFERENCES portal_users(id) ON DELETE CASCADE,
  secret        text NOT NULL,          -- base32, as authenticator apps take it
  confirmed_at  timestamptz,            -- NULL while enrolment waits for a first valid code
  last_step     bigint                  -- time step of the last accepted code: a code is good once
);

CREATE TABLE portal_login_audit (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  email       text NOT NULL,            -- as typed (lower-cased), also when no such account exists
  user_id     bigint REFERENCES portal_users(id) ON DELETE SET NULL,
  outcome     text NOT NULL CHECK (outcome IN ('signed_in', 'bad_credentials', 'totp_required', 'bad_totp', 'rate_limited')),
  ip          text,
  user_agent  text
);
CREATE INDEX portal_login_audit_at ON portal_login_audit (at);
CREATE INDEX portal_login_audit_email ON portal_login_audit (email, at);
