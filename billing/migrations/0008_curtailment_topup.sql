-- Curtailed hours are credited as if hashed (docs/control.md, "Curtailment and investors"): the farm funds the
-- revenue of those hours with a posting of its own, from farm:revenue to pool:receivable, reversed with the day's
-- other transactions when the day is corrected.
ALTER TABLE journal_transactions DROP CONSTRAINT journal_transactions_kind_check;
ALTER TABLE journal_transactions ADD CONSTRAINT journal_transactions_kind_check
  CHECK (kind IN ('credit', 'farm_share', 'curtailment_topup', 'reversal', 'payout_request', 'payout_sent', 'payout_rejected'));
