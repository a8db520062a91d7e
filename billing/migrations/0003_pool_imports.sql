-- Figures imported from pool and network APIs, each with the request that produced it. pool_payouts (source
-- 'api') and market_days point at the import they came from; the manual and CSV paths leave import_id NULL.
CREATE TABLE pool_imports (
  id           bigserial PRIMARY KEY,
  pool         text NOT NULL CHECK (length(pool) BETWEEN 1 AND 100),   -- foundry, braiins, f2pool, viabtc, mempool
  account      text NOT NULL CHECK (length(account) BETWEEN 0 AND 200),
  day          date NOT NULL,                                          -- UTC day
  figure       text NOT NULL CHECK (figure IN ('revenue', 'worker_hashrate', 'network')),
  amount_sat   bigint CHECK (amount_sat >= 0),                          -- revenue
  total_ths    numeric(24,6),                                           -- worker_hashrate: the workers' sum
  raw          jsonb NOT NULL,                                          -- the pool's own figures, as strings
  request      text NOT NULL,                                           -- method and URL (never the key)
  imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pool_imports_day ON pool_imports (day, figure, pool, account, imported_at DESC);

ALTER TABLE pool_payouts ADD COLUMN import_id bigint REFERENCES pool_imports(id);
ALTER TABLE market_days ADD COLUMN import_id bigint REFERENCES pool_imports(id);

-- The farm's measured hashrate against the pool's per-worker sum, checked before a day is frozen. A 'blocked'
-- row tells staff why the day did not run; 'accepted' records who let a gap through and why.
CREATE TABLE pool_hashrate_checks (
  id             bigserial PRIMARY KEY,
  day            date NOT NULL,
  measured_ths   numeric(24,6) NOT NULL,
  pool_ths       numeric(24,6) NOT NULL,
  gap_pct        numeric(12,4) NOT NULL,
  tolerance_pct  numeric(8,4) NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('within', 'blocked', 'accepted')),
  reason         text,
  pools          jsonb NOT NULL,
  checked_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (outcome <> 'accepted' OR length(reason) > 0)
);
CREATE INDEX pool_hashrate_checks_day ON pool_hashrate_checks (day, checked_at DESC);
