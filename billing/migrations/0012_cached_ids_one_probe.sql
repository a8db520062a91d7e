-- The daily run's per-row costs, fourth round (issue 17, docs/scaling.md "Ledger"):
--  * The journal's ids come from sequences cached per connection: each connection draws 1,000 ids at a time
--    instead of locking (and every 32 ids WAL-logging) the sequence for every row (a credit's transaction and
--    its 2-3 entries). Ids stay unique and increase within a connection, so a transaction's entries (always
--    written by one) keep their order; across connections they follow the order the blocks were drawn in, not
--    time (a connection that closes leaves the rest of its block unused). Readers that list transactions in time
--    order use what says it: a credit's revision and kind, a transaction's created_at (its database
--    transaction's start), then the id within one database transaction.
--  * A credit record's contract is probed once, and the record's investor must be that contract's investor
--    (contracts never change investor, and their investor exists by their own foreign key): one index probe per
--    record instead of two, and a record crediting a contract to someone else is now refused too.
--  * The queued balance check's array of transaction ids (16 KB for a chunk of 2,000) is stored out of line
--    without compression: it lives until COMMIT, and compressing it cost ≈ 1 ms a chunk (≈ 0.2 ms stored plainly).
ALTER SEQUENCE journal_transactions_id_seq CACHE 1000;
ALTER SEQUENCE journal_entries_id_seq CACHE 1000;
ALTER TABLE journal_balance_checks ALTER COLUMN transaction_ids SET STORAGE EXTERNAL;

CREATE OR REPLACE FUNCTION daily_credits_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  -- One index probe per row and table (LATERAL ... LIMIT 1 cannot be turned into a scan of the whole table).
  SELECT c.transaction_id, c.contract_id, c.investor_id, k.investor_id AS contract_investor, t.found IS NULL AS no_transaction, k.found IS NULL AS no_contract
    INTO bad FROM new_credits c
    LEFT JOIN LATERAL (SELECT true AS found FROM journal_transactions x WHERE x.id = c.transaction_id LIMIT 1) t ON true
    LEFT JOIN LATERAL (SELECT true AS found, x.investor_id FROM contracts x WHERE x.id = c.contract_id LIMIT 1) k ON true
   WHERE t.found IS NULL OR k.found IS NULL OR k.investor_id <> c.investor_id
   LIMIT 1;
  IF NOT FOUND THEN
    RETURN NULL;
  ELSIF bad.no_transaction THEN
    RAISE EXCEPTION 'credit record refers to journal transaction %, which does not exist', bad.transaction_id USING ERRCODE = 'foreign_key_violation';
  ELSIF bad.no_contract THEN
    RAISE EXCEPTION 'credit record refers to contract %, which does not exist', bad.contract_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RAISE EXCEPTION 'credit record names investor % for contract %, which belongs to investor %', bad.investor_id, bad.contract_id, bad.contract_investor
    USING ERRCODE = 'foreign_key_violation';
END $$;
