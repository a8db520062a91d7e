-- A run's credit inputs, once per run instead of in every credit record (issue 17, docs/scaling.md "Ledger").
-- Every credit of one revision of a day shares most of its inputs (revenue, delivered and sold TH/s, scale,
-- difficulty, BTC price, uptimes, curtailment): they were copied into each record's jsonb (≈ 300 of its ≈ 420
-- bytes) and joined there by the server, row by row. From now on the shared part is stored once here, each record
-- keeps only its own (quota and maintenance charge), and readers read daily_credit_records, whose `inputs` is the
-- two joined: the same object as before. Records written before this migration carry their whole inputs and have
-- no row here; the join leaves them as they are.
CREATE TABLE credit_run_inputs (
  day      date NOT NULL,
  revision integer NOT NULL,
  inputs   jsonb NOT NULL,
  PRIMARY KEY (day, revision),
  FOREIGN KEY (day, revision) REFERENCES daily_runs (day, revision)
);
-- What credits were computed from is never edited, like the records themselves.
CREATE TRIGGER credit_run_inputs_append_only BEFORE DELETE OR UPDATE ON credit_run_inputs
  FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER credit_run_inputs_no_truncate BEFORE TRUNCATE ON credit_run_inputs
  FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();

-- The credit records as readers see them: each with its whole inputs (the run's, then its own on top).
CREATE VIEW daily_credit_records AS
  SELECT c.transaction_id, c.contract_id, c.investor_id, c.day, c.revision, c.kind, c.contracted_ths, c.gross_sat,
         c.maintenance_fee_sat, c.revenue_fee_sat, c.net_sat, coalesce(r.inputs, '{}'::jsonb) || c.inputs AS inputs, c.created_at
    FROM daily_credits c LEFT JOIN credit_run_inputs r ON r.day = c.day AND r.revision = c.revision;
