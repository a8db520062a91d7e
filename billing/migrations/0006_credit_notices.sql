-- Daily-credit notifications: the investor's choice (on unless switched off) and which days were mailed, once each.
CREATE TABLE investor_notifications (
  investor_id   text PRIMARY KEY REFERENCES investors(id),
  daily_credit  boolean NOT NULL,
  changed_at    timestamptz NOT NULL DEFAULT now(),
  changed_via   text NOT NULL CHECK (changed_via IN ('portal', 'unsubscribe-link', 'staff'))
);

CREATE TABLE credit_notices (
  investor_id  text NOT NULL REFERENCES investors(id),
  day          date NOT NULL,
  net_sat      bigint NOT NULL,
  mailed_to    text NOT NULL,
  mailed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (investor_id, day)
);
