-- Password reset by mailed link: one row per link sent; the link is signed and names its row, which it uses up.
CREATE TABLE portal_password_resets (
  nonce         text PRIMARY KEY CHECK (nonce ~ '^[A-Za-z0-9_-]{43}$'),
  user_id       bigint NOT NULL REFERENCES portal_users(id) ON DELETE CASCADE,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  requested_ip  text
);
CREATE INDEX portal_password_resets_user ON portal_password_resets (user_id);
