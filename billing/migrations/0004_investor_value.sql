-- What a credit is worth to an investor: exchange rates recorded with their source (like the BTC price in
-- market_days), the currency each investor reads their figures in, and what a contract was bought for.
CREATE TABLE fx_rates (
  day          date NOT NULL,
  currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$' AND currency <> 'USD'),
  per_usd      numeric(20,8) NOT NULL CHECK (per_usd > 0),   -- units of the currency one USD bought that day
  source       text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, currency)
);

ALTER TABLE investors ADD COLUMN currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$');
-- Optional: contracts sold before this column existed have no recorded price (the portal then shows no payback).
ALTER TABLE contracts ADD COLUMN purchase_price_usd numeric(20,2) CHECK (purchase_price_usd > 0);
