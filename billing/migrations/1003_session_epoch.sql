-- Ending every session of an account at once (a password reset): each session records the account's epoch at
-- sign-in and is valid only while it is still the account's epoch. No clock is compared, so skew cannot matter.
ALTER TABLE portal_users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;
