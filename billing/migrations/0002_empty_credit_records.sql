-- A contract credited 0 sat on a day (no revenue that day) is still recorded, with its
-- inputs, as a journal transaction without entries. One lone entry can never balance, so it stays refused.
CREATE OR REPLACE FUNCTION journal_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
  n integer;
BEGIN
  SELECT coalesce(sum(amount_sat), 0), count(*) INTO total, n FROM journal_entries WHERE transaction_id = NEW.id;
  IF n = 1 OR total <> 0 THEN
    RAISE EXCEPTION 'journal transaction % (%) does not balance: % entries summing to % sat', NEW.id, NEW.idempotency_key, n, total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
