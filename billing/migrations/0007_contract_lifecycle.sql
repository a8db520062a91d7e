-- Contract lifecycle (end early, extend, change fee) and what an investor owes: a clawback of an over-credit the
-- investor already withdrew, or a fee larger than the day's share, is a receivable recovered from later credits,
-- never a negative balance.

-- One receivable account per investor that owes anything: 'receivable:<investor id>', debit-normal, never below 0.
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
  CHECK (kind IN ('investor', 'farm_revenue', 'fees', 'pool_receivable', 'payouts_pending', 'payouts_sent', 'investor_receivable'));
ALTER TABLE accounts ADD CONSTRAINT investor_receivable_never_negative CHECK (kind <> 'investor_receivable' OR balance_sat >= 0);

-- Fee terms from a day on (a fee change); without rows a contract's own columns apply to every day.
CREATE TABLE contract_fee_terms (
  contract_id                 text NOT NULL REFERENCES contracts(id),
  from_day                    date NOT NULL,
  maintenance_usd_per_ths_day numeric(20,8) NOT NULL CHECK (maintenance_usd_per_ths_day >= 0),
  revenue_fee_pct             numeric(6,3) NOT NULL CHECK (revenue_fee_pct >= 0 AND revenue_fee_pct <= 100),
  PRIMARY KEY (contract_id, from_day)
);

-- The audit of every change: who, why, the terms before and after, and the days re-allocated (new revisions).
CREATE TABLE contract_changes (
  id                bigserial PRIMARY KEY,
  contract_id       text NOT NULL REFERENCES contracts(id),
  kind              text NOT NULL CHECK (kind IN ('end_early', 'extend', 'change_fee')),
  effective_day     date NOT NULL,
  before            jsonb NOT NULL,
  after             jsonb NOT NULL,
  staff             text NOT NULL CHECK (length(staff) BETWEEN 1 AND 100),
  reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  days_reallocated  text[] NOT NULL DEFAULT '{}',
  changed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contract_changes_contract ON contract_changes (contract_id, changed_at);
