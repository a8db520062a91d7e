-- Monthly statements: which were issued and mailed (a month's run is repeatable: each investor is mailed once).
CREATE TABLE statement_issues (
  investor_id  text NOT NULL REFERENCES investors(id),
  month        text NOT NULL CHECK (month ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  opening_sat  bigint NOT NULL,
  closing_sat  bigint NOT NULL,
  issued_at    timestamptz NOT NULL DEFAULT now(),
  mailed_to    text,
  mailed_at    timestamptz,
  PRIMARY KEY (investor_id, month)
);
