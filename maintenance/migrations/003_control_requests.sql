-- Miner actions asked for at the center (staff page, /api/control) and carried out by the container's edge, which
-- fetches them over the uplink (docs/control.md). One row per container: an edge sees and claims only its own.
-- A request not claimed by expires_at is never handed out: it turns expired instead (a reboot queued during an LTE
-- outage must not fire an hour later).
CREATE TABLE maintenance.control_request (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  requested_by text NOT NULL,
  reason text NOT NULL DEFAULT '',
  container text NOT NULL,
  targets text[] NOT NULL CHECK (cardinality(targets) > 0),
  action jsonb NOT NULL,
  dry_run boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'claimed', 'done', 'expired', 'cancelled')),
  claimed_at timestamptz,
  claimed_by text,
  -- now() is the transaction's start, the same instant as created_at's default.
  expires_at timestamptz NOT NULL DEFAULT now() + interval '10 minutes',
  results jsonb,
  finished_at timestamptz,
  CHECK (expires_at > created_at)
);
-- What an edge polls for every 10 s: its container's queued requests.
CREATE INDEX control_request_queued ON maintenance.control_request (container, id) WHERE status = 'queued';
CREATE INDEX control_request_container ON maintenance.control_request (container, id);

-- Who did what to a request, and when: created (with the action), cancelled, claimed by an edge, results, expired.
CREATE TABLE maintenance.control_event (
  id bigserial PRIMARY KEY,
  request_id bigint NOT NULL REFERENCES maintenance.control_request (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('created', 'cancelled', 'claimed', 'done', 'expired')),
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX control_event_request ON maintenance.control_event (request_id, id);
