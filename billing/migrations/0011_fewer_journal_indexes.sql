-- Fewer index entries per credit (issue 17, docs/scaling.md "Ledger"): every daily credit writes a journal
-- transaction and 2-3 entries, and each index on them is one more entry to insert per row.
--  * journal_entries: the primary key becomes (transaction_id, id). It still identifies each entry, and it is the
--    index every reader of a transaction's entries needs (by transaction, in id order), so the separate index on
--    transaction_id goes: one index entry less per entry.
--  * journal_transactions (contract_id, day): no query reads transactions by contract (the credit records,
--    daily_credits, carry the contract and have their own index on it).
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_pkey;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_pkey PRIMARY KEY (transaction_id, id);
DROP INDEX journal_entries_transaction;
DROP INDEX journal_transactions_contract;

-- The two statement triggers on journal_entries become one, and each transaction or account written is checked
-- once per statement instead of once per entry (2-3 entries a credit):
--  * the transactions written exist and were opened in this database transaction: one probe per distinct
--    transaction (was: two probes per entry, one by each trigger);
--  * the accounts exist: the balance update touches one row per distinct account, so an account it did not find
--    is one that does not exist (was: a separate probe per distinct account);
--  * the deferred balance check is queued with the same distinct transactions.
CREATE OR REPLACE FUNCTION journal_entries_checked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  bad record;
  accounts_written bigint;
  accounts_updated bigint;
  missing bigint;
BEGIN
  SELECT array_agg(DISTINCT transaction_id) INTO ids FROM new_entries;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT d.id, t.id IS NULL AS absent INTO bad FROM unnest(ids) AS d(id)
    LEFT JOIN journal_transactions t ON t.id = d.id
   WHERE t.id IS NULL OR t.created_txid <> txid_current()
   LIMIT 1;
  IF FOUND AND bad.absent THEN
    RAISE EXCEPTION 'journal entry refers to journal transaction %, which does not exist', bad.id USING ERRCODE = 'foreign_key_violation';
  ELSIF FOUND THEN
    RAISE EXCEPTION 'entries can only be added to a journal transaction created in the same database transaction'
      USING ERRCODE = 'restrict_violation';
  END IF;
  -- One aggregated UPDATE per statement (not per row), in account order so concurrent writers do not deadlock.
  WITH s AS MATERIALIZED (
    SELECT account_id, sum(amount_sat)::bigint AS total FROM new_entries GROUP BY account_id ORDER BY account_id
  ), u AS (
    UPDATE accounts a SET balance_sat = a.balance_sat + s.total * a.normal_side FROM s WHERE a.id = s.account_id RETURNING a.id
  )
  SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM u) INTO accounts_written, accounts_updated;
  IF accounts_updated <> accounts_written THEN
    SELECT e.account_id INTO missing FROM (SELECT DISTINCT account_id FROM new_entries) e
     WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.account_id) LIMIT 1;
    RAISE EXCEPTION 'journal entry refers to account %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  INSERT INTO journal_balance_checks (transaction_ids) VALUES (ids);
  RETURN NULL;
END $$;
ALTER FUNCTION journal_entries_checked() SET enable_hashjoin = off SET enable_mergejoin = off;
DROP TRIGGER journal_entries_after_insert ON journal_entries;
DROP FUNCTION journal_entries_after_insert();
