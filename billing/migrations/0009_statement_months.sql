-- The months whose statements were issued in full, by `flymining billing statements --month` or by the scheduler
-- (which issues last month's once every day of it is credited, and never a month recorded here again).
CREATE TABLE statement_months (
  month      text PRIMARY KEY CHECK (month ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  investors  integer NOT NULL,
  mailed     integer NOT NULL,
  issued_by  text NOT NULL CHECK (issued_by IN ('command', 'scheduler')),
  issued_at  timestamptz NOT NULL DEFAULT now()
);
