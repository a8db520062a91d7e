-- The journal's rules checked per statement and per batch instead of per row (issue 17, docs/scaling.md "Ledger").
-- The rules are the same; what enforces them changes:
--  * every journal transaction balances (entries sum to 0, never exactly one entry): each INSERT into
--    journal_entries queues one deferred check of the transactions it wrote to, run at COMMIT as one query
--    (was: a deferred trigger per journal transaction);
--  * every entry refers to an existing journal transaction opened in the same database transaction, and to an
--    existing account; every journal transaction's contract and every credit record's transaction, contract and
--    investor exist: one query per statement over its transition table (was: a foreign-key check per row);
--  * what those references point at cannot go away later: journal transactions were already append-only, and
--    investors, contracts and accounts are now never deleted nor renumbered (was: the foreign keys' row locks
--    and ON DELETE NO ACTION). Nothing in billing deletes them; a contract is ended, not deleted.

-- ---- referenced rows stay ----
CREATE FUNCTION ledger_refuse_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger refers to % rows: % refused (they are never deleted or renumbered)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER investors_kept BEFORE DELETE ON investors FOR EACH ROW EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER investors_key_kept BEFORE UPDATE ON investors FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER investors_no_truncate BEFORE TRUNCATE ON investors FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER contracts_kept BEFORE DELETE ON contracts FOR EACH ROW EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER contracts_key_kept BEFORE UPDATE ON contracts FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER contracts_no_truncate BEFORE TRUNCATE ON contracts FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER accounts_kept BEFORE DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER accounts_key_kept BEFORE UPDATE ON accounts FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_refuse_removal();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_removal();

-- ---- the per-row foreign keys of the hot tables, replaced below ----
ALTER TABLE journal_transactions DROP CONSTRAINT journal_transactions_contract_id_fkey;
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_transaction_id_fkey;
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_account_id_fkey;
ALTER TABLE daily_credits DROP CONSTRAINT daily_credits_transaction_id_fkey;
ALTER TABLE daily_credits DROP CONSTRAINT daily_credits_contract_id_fkey;
ALTER TABLE daily_credits DROP CONSTRAINT daily_credits_investor_id_fkey;

CREATE FUNCTION journal_transactions_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing text;
BEGIN
  SELECT n.contract_id INTO missing FROM new_transactions n
   WHERE n.contract_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.id = n.contract_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal transaction refers to contract %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

-- ---- balance: one deferred check per batch of entries ----
-- A row per INSERT into journal_entries: the transactions it wrote to. Its constraint trigger runs at COMMIT and
-- removes the row, so the table holds nothing between database transactions.
CREATE TABLE journal_balance_checks (
  id               bigserial PRIMARY KEY,
  transaction_ids  bigint[] NOT NULL
);

CREATE FUNCTION journal_batch_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT t.id, s.total, s.n INTO bad
    FROM unnest(NEW.transaction_ids) AS t(id)
    CROSS JOIN LATERAL (SELECT coalesce(sum(e.amount_sat), 0) AS total, count(*) AS n FROM journal_entries e WHERE e.transaction_id = t.id) s
   WHERE s.n = 1 OR s.total <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal transaction % (%) does not balance: % entries summing to % sat',
      bad.id, (SELECT idempotency_key FROM journal_transactions WHERE id = bad.id), bad.n, bad.total
      USING ERRCODE = 'check_violation';
  END IF;
  DELETE FROM journal_balance_checks WHERE id = NEW.id;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_batch_balanced AFTER INSERT ON journal_balance_checks
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_batch_balanced();

DROP TRIGGER journal_transaction_balanced ON journal_transactions;
DROP FUNCTION journal_transaction_balanced();

-- ---- entries: their transaction and account exist; the deferred balance check of the transactions written ----
-- (journal_entries_after_insert, from 0001, still refuses entries into a transaction of an earlier database
-- transaction and keeps the cached balances.)
CREATE FUNCTION journal_entries_checked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing bigint;
BEGIN
  SELECT e.transaction_id INTO missing FROM new_entries e
   WHERE NOT EXISTS (SELECT 1 FROM journal_transactions t WHERE t.id = e.transaction_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry refers to journal transaction %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT e.account_id INTO missing FROM (SELECT DISTINCT account_id FROM new_entries) e
   WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.account_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry refers to account %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  INSERT INTO journal_balance_checks (transaction_ids) SELECT array_agg(DISTINCT transaction_id) FROM new_entries HAVING count(*) > 0;
  RETURN NULL;
END $$;

-- ---- credit records: their transaction, contract and investor exist ----
CREATE FUNCTION daily_credits_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  -- One index probe per row and table (LATERAL ... LIMIT 1 cannot be turned into a scan of the whole table).
  SELECT c.transaction_id, c.contract_id, c.investor_id, t.found IS NULL AS no_transaction, k.found IS NULL AS no_contract
    INTO bad FROM new_credits c
    LEFT JOIN LATERAL (SELECT true AS found FROM journal_transactions x WHERE x.id = c.transaction_id LIMIT 1) t ON true
    LEFT JOIN LATERAL (SELECT true AS found FROM contracts x WHERE x.id = c.contract_id LIMIT 1) k ON true
    LEFT JOIN LATERAL (SELECT true AS found FROM investors x WHERE x.id = c.investor_id LIMIT 1) i ON true
   WHERE t.found IS NULL OR k.found IS NULL OR i.found IS NULL
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'credit record refers to %, which does not exist',
      CASE WHEN bad.no_transaction THEN 'journal transaction ' || bad.transaction_id
           WHEN bad.no_contract THEN 'contract ' || bad.contract_id
           ELSE 'investor ' || bad.investor_id END
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

-- The reference checks, once per statement over its new rows.
CREATE TRIGGER journal_transactions_after_insert AFTER INSERT ON journal_transactions
  REFERENCING NEW TABLE AS new_transactions FOR EACH STATEMENT EXECUTE FUNCTION journal_transactions_after_insert();
CREATE TRIGGER journal_entries_checked AFTER INSERT ON journal_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_checked();
CREATE TRIGGER daily_credits_after_insert AFTER INSERT ON daily_credits
  REFERENCING NEW TABLE AS new_credits FOR EACH STATEMENT EXECUTE FUNCTION daily_credits_after_insert();

-- The checks above join a chunk of new rows (a transition table, which has no statistics) to tables that grow
-- with the ledger: probing their indexes row by row stays proportional to the chunk, where a hash join would
-- read the whole table for every statement.
ALTER FUNCTION journal_transactions_after_insert() SET enable_hashjoin = off SET enable_mergejoin = off;
ALTER FUNCTION journal_entries_checked() SET enable_hashjoin = off SET enable_mergejoin = off;
ALTER FUNCTION journal_entries_after_insert() SET enable_hashjoin = off SET enable_mergejoin = off;

-- Investor accounts are updated once per run chunk; room on each page keeps those updates HOT (no index writes).
ALTER TABLE accounts SET (fillfactor = 50);

-- Idempotency keys are only ever compared for equality: byte order ("C") makes each comparison a memcmp instead
-- of a locale-aware one, for the unique index every posting inserts into and every lookup of known keys.
ALTER TABLE journal_transactions ALTER COLUMN idempotency_key TYPE text COLLATE "C";
-- Only reversals set reverses_id: a partial unique index (still "reversed at most once") spares every other
-- journal transaction an index entry.
ALTER TABLE journal_transactions DROP CONSTRAINT journal_transactions_reverses_id_key;
CREATE UNIQUE INDEX journal_transactions_reversed_once ON journal_transactions (reverses_id) WHERE reverses_id IS NOT NULL;
