-- Billing ledger: investors, hashrate contracts, daily inputs, an immutable double-entry journal and payouts.
-- Amounts are satoshi in bigint. Sign convention: debit positive, credit negative; every transaction sums to 0.
-- Account balances are shown on the account's normal side (investor balances are credit-normal, so positive).

CREATE TABLE investors (
  id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contracts (
  id                          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  investor_id                 text NOT NULL REFERENCES investors(id),
  hashrate_ths                numeric(20,6) NOT NULL CHECK (hashrate_ths > 0),
  start_day                   date NOT NULL,
  end_day                     date NOT NULL,            -- inclusive: the last UTC day credited
  maintenance_usd_per_ths_day numeric(20,8) NOT NULL DEFAULT 0 CHECK (maintenance_usd_per_ths_day >= 0),
  revenue_fee_pct             numeric(6,3) NOT NULL DEFAULT 0 CHECK (revenue_fee_pct >= 0 AND revenue_fee_pct <= 100),
  created_at                  timestamptz NOT NULL DEFAULT now(),
  CHECK (end_day >= start_day)
);
CREATE INDEX contracts_investor ON contracts (investor_id);
CREATE INDEX contracts_days ON contracts (start_day, end_day);

-- Network and market figures per UTC day (staff record them or import a CSV). They may be corrected until the
-- day is run; the run freezes what it used in daily_runs.inputs, so a later correction changes nothing silently.
CREATE TABLE market_days (
  day                 date PRIMARY KEY,
  difficulty          numeric(40,4) NOT NULL CHECK (difficulty > 0),
  subsidy_sat         bigint NOT NULL CHECK (subsidy_sat >= 0),
  fees_per_block_sat  bigint NOT NULL DEFAULT 0 CHECK (fees_per_block_sat >= 0),
  btc_price_usd       numeric(20,4) NOT NULL CHECK (btc_price_usd > 0),
  recorded_at         timestamptz NOT NULL DEFAULT now()
);

-- What the pool actually paid for a day (API or CSV). When a day has any, they replace the FPPS expectation.
CREATE TABLE pool_payouts (
  day          date NOT NULL,
  pool         text NOT NULL CHECK (length(pool) BETWEEN 1 AND 100),
  amount_sat   bigint NOT NULL CHECK (amount_sat >= 0),
  source       text NOT NULL CHECK (source IN ('api', 'csv')),
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, pool)
);

CREATE TABLE accounts (
  id           bigserial PRIMARY KEY,
  code         text NOT NULL UNIQUE,   -- 'investor:<id>', 'farm:revenue', 'farm:fees', 'pool:receivable', 'payouts:pending', 'payouts:sent'
  kind         text NOT NULL CHECK (kind IN ('investor', 'farm_revenue', 'fees', 'pool_receivable', 'payouts_pending', 'payouts_sent')),
  investor_id  text REFERENCES investors(id) UNIQUE,
  normal_side  smallint NOT NULL CHECK (normal_side IN (1, -1)),   -- 1 debit-normal, -1 credit-normal
  -- Cache of sum(entries) * normal_side, kept by a trigger; verifyLedger() recomputes it from the entries.
  balance_sat  bigint NOT NULL DEFAULT 0,
  CHECK ((kind = 'investor') = (investor_id IS NOT NULL)),
  -- An investor's balance never goes negative, whatever writes to the journal.
  CONSTRAINT investor_balance_never_negative CHECK (kind <> 'investor' OR balance_sat >= 0)
);

CREATE TABLE journal_transactions (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  kind             text NOT NULL CHECK (kind IN ('credit', 'farm_share', 'reversal', 'payout_request', 'payout_sent', 'payout_rejected')),
  day              date,
  contract_id      text REFERENCES contracts(id),
  reverses_id      bigint UNIQUE REFERENCES journal_transactions(id),   -- a transaction is reversed at most once
  memo             text NOT NULL DEFAULT '',
  created_txid     bigint NOT NULL DEFAULT txid_current(),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_transactions_day ON journal_transactions (day, kind);
CREATE INDEX journal_transactions_contract ON journal_transactions (contract_id, day);

CREATE TABLE journal_entries (
  id              bigserial PRIMARY KEY,
  transaction_id  bigint NOT NULL REFERENCES journal_transactions(id),
  account_id      bigint NOT NULL REFERENCES accounts(id),
  amount_sat      bigint NOT NULL CHECK (amount_sat <> 0)
);
CREATE INDEX journal_entries_transaction ON journal_entries (transaction_id);
CREATE INDEX journal_entries_account ON journal_entries (account_id);

-- One row per contract credit (or its reversal), with every input needed to recompute it.
CREATE TABLE daily_credits (
  transaction_id       bigint PRIMARY KEY REFERENCES journal_transactions(id),
  contract_id          text NOT NULL REFERENCES contracts(id),
  investor_id          text NOT NULL REFERENCES investors(id),
  day                  date NOT NULL,
  revision             integer NOT NULL CHECK (revision >= 1),
  kind                 text NOT NULL CHECK (kind IN ('credit', 'reversal')),
  contracted_ths       numeric(20,6) NOT NULL,
  gross_sat            bigint NOT NULL,
  maintenance_fee_sat  bigint NOT NULL,
  revenue_fee_sat      bigint NOT NULL,
  net_sat              bigint NOT NULL,
  inputs               jsonb NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX daily_credits_once ON daily_credits (contract_id, day, revision, kind);
CREATE INDEX daily_credits_investor ON daily_credits (investor_id, day);

-- One row per (day, revision): the frozen inputs and the run's progress.
CREATE TABLE daily_runs (
  day          date NOT NULL,
  revision     integer NOT NULL CHECK (revision >= 1),
  status       text NOT NULL CHECK (status IN ('running', 'done')),
  inputs       jsonb NOT NULL,
  contracts    integer NOT NULL,
  revenue_sat  bigint NOT NULL,
  credited_sat bigint,           -- investors' gross, once done
  farm_sat     bigint,           -- the farm's share, once done
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  PRIMARY KEY (day, revision)
);

CREATE TABLE payouts (
  id                       bigserial PRIMARY KEY,
  investor_id              text NOT NULL REFERENCES investors(id),
  amount_sat               bigint NOT NULL CHECK (amount_sat > 0),
  address                  text NOT NULL,
  status                   text NOT NULL CHECK (status IN ('requested', 'approved', 'sent', 'rejected')),
  requested_at             timestamptz NOT NULL DEFAULT now(),
  approved_at              timestamptz,
  approved_by              text,
  sent_at                  timestamptz,
  btc_txid                 text CHECK (btc_txid ~ '^[0-9a-f]{64}$'),
  rejected_reason          text,
  request_transaction_id   bigint NOT NULL REFERENCES journal_transactions(id),
  settle_transaction_id    bigint REFERENCES journal_transactions(id)
);
CREATE INDEX payouts_investor ON payouts (investor_id, requested_at);
CREATE INDEX payouts_status ON payouts (status);

INSERT INTO accounts (code, kind, normal_side) VALUES
  ('pool:receivable', 'pool_receivable', 1),
  ('farm:revenue', 'farm_revenue', -1),
  ('farm:fees', 'fees', -1),
  ('payouts:pending', 'payouts_pending', -1),
  ('payouts:sent', 'payouts_sent', -1);   -- credit-normal: total paid out of the farm's wallet

-- ---- the journal is append-only ----
CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only: % on % refused (post a reversing transaction instead)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER journal_transactions_append_only BEFORE UPDATE OR DELETE ON journal_transactions
  FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_transactions_no_truncate BEFORE TRUNCATE ON journal_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER daily_credits_append_only BEFORE UPDATE OR DELETE ON daily_credits
  FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();

-- ---- entries: only into transactions opened in the same database transaction; balances cached per statement ----
CREATE FUNCTION journal_entries_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_entries e JOIN journal_transactions t ON t.id = e.transaction_id
             WHERE t.created_txid <> txid_current()) THEN
    RAISE EXCEPTION 'entries can only be added to a journal transaction created in the same database transaction'
      USING ERRCODE = 'restrict_violation';
  END IF;
  -- One aggregated UPDATE per statement (not per row), in account order so concurrent writers do not deadlock.
  UPDATE accounts a SET balance_sat = a.balance_sat + s.total * a.normal_side
    FROM (SELECT account_id, sum(amount_sat)::bigint AS total FROM new_entries GROUP BY account_id ORDER BY account_id) s
   WHERE a.id = s.account_id;
  RETURN NULL;
END $$;
CREATE TRIGGER journal_entries_after_insert AFTER INSERT ON journal_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_after_insert();

-- ---- every transaction balances to zero, with at least two entries: checked at commit ----
CREATE FUNCTION journal_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
  n integer;
BEGIN
  SELECT coalesce(sum(amount_sat), 0), count(*) INTO total, n FROM journal_entries WHERE transaction_id = NEW.id;
  IF n < 2 OR total <> 0 THEN
    RAISE EXCEPTION 'journal transaction % (%) does not balance: % entries summing to % sat', NEW.id, NEW.idempotency_key, n, total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_transaction_balanced AFTER INSERT ON journal_transactions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_transaction_balanced();
