-- Repair tickets, repairs and the on-call rota: schema "maintenance", beside the ledger in the same database.
-- Times are timestamptz (UTC inside); the rota's hand-over is read in the farm's time zone (rota_settings).

-- A physical miner. Its history follows the machine (serial number, else MAC), not the slot it stands in: a miner
-- moved to another rack keeps its tickets. Without either, the slot id is all we know ("slot:C01-R1-S1-2").
CREATE TABLE maintenance.machines (
  id          bigserial PRIMARY KEY,
  identity    text NOT NULL UNIQUE CHECK (identity ~ '^(serial|mac|slot):.+'),
  serial      text,
  mac         text,
  model       text,
  first_seen  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE maintenance.tickets (
  id               bigserial PRIMARY KEY,
  machine_id       bigint NOT NULL REFERENCES maintenance.machines (id),
  -- Where it stood when the ticket opened (inventory id and place).
  miner            text NOT NULL,
  site             text NOT NULL DEFAULT '',
  container        text NOT NULL DEFAULT '',
  rack             text NOT NULL DEFAULT '',
  shelf            text NOT NULL DEFAULT '',
  slot             text NOT NULL DEFAULT '',
  -- "fan 3", "board 2"; '' for the whole miner.
  part             text NOT NULL DEFAULT '',
  -- Fault code that opened it (FAN_STOPPED ...): the "fault type" of the figures.
  fault            text NOT NULL,
  severity         text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  -- The alert group it was paged in: an acknowledge link acknowledges every ticket of its group.
  group_key        text NOT NULL,
  state            text NOT NULL CHECK (state IN ('open', 'acknowledged', 'in_repair', 'fixed', 'verified', 'reopened', 'self_healed')),
  opened_at        timestamptz NOT NULL,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  taken_at         timestamptz,
  taken_by         text,
  -- Whether an alert of the ticket fires now, and since when its last one cleared.
  firing           boolean NOT NULL DEFAULT true,
  cleared_at       timestamptz,
  fixed_at         timestamptz,
  fixed_by         text,
  verified_at      timestamptz,
  -- Left the backlog: verified or self-healed.
  closed_at        timestamptz,
  reopened         integer NOT NULL DEFAULT 0 CHECK (reopened >= 0),
  -- The earlier ticket of the same machine and part closed less than 7 days before this one opened.
  repeat_of        bigint REFERENCES maintenance.tickets (id),
  nominal_ths      numeric(12,3),
  -- Filled once the ticket is closed (from the stored samples and that day's hashprice).
  lost_th_hours    numeric(18,3),
  lost_btc         numeric(20,8),
  CHECK (acknowledged_at IS NULL OR acknowledged_at >= opened_at),
  CHECK ((state IN ('verified', 'self_healed')) = (closed_at IS NOT NULL))
);
-- One live ticket per machine and part.
CREATE UNIQUE INDEX tickets_live ON maintenance.tickets (machine_id, part) WHERE closed_at IS NULL;
CREATE INDEX tickets_opened ON maintenance.tickets (opened_at);
CREATE INDEX tickets_group ON maintenance.tickets (group_key) WHERE closed_at IS NULL;
CREATE INDEX tickets_machine ON maintenance.tickets (machine_id, opened_at);

-- The alerts (fingerprints) a ticket gathers: a fan that stops and then goes missing is one ticket.
CREATE TABLE maintenance.ticket_alerts (
  ticket_id    bigint NOT NULL REFERENCES maintenance.tickets (id) ON DELETE CASCADE,
  fingerprint  text NOT NULL,
  fault        text NOT NULL,
  firing       boolean NOT NULL,
  fired_at     timestamptz NOT NULL,
  cleared_at   timestamptz,
  PRIMARY KEY (ticket_id, fingerprint)
);
CREATE INDEX ticket_alerts_fingerprint ON maintenance.ticket_alerts (fingerprint);

-- Everything that happened to a ticket, in order: what the staff page's timeline shows.
CREATE TABLE maintenance.ticket_events (
  id         bigserial PRIMARY KEY,
  ticket_id  bigint NOT NULL REFERENCES maintenance.tickets (id) ON DELETE CASCADE,
  at         timestamptz NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('opened', 'acknowledged', 'taken', 'note', 'repair', 'fixed', 'verified', 'reopened', 'self_healed', 'cleared', 'refired', 'escalated')),
  by         text,
  detail     text NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON maintenance.ticket_events (ticket_id, at);

-- What was done on site.
CREATE TABLE maintenance.repairs (
  id            bigserial PRIMARY KEY,
  ticket_id     bigint NOT NULL REFERENCES maintenance.tickets (id),
  machine_id    bigint NOT NULL REFERENCES maintenance.machines (id),
  at            timestamptz NOT NULL,
  by            text NOT NULL,
  action        text NOT NULL CHECK (action IN ('reseat', 'replace_fan', 'replace_hashboard', 'replace_psu', 'replace_control_board', 'reflash', 'clean', 'move', 'other')),
  notes         text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
  minutes_on_site integer CHECK (minutes_on_site IS NULL OR minutes_on_site BETWEEN 0 AND 10080)
);
CREATE INDEX repairs_machine ON maintenance.repairs (machine_id, at);

-- Parts taken out and put in, with serial numbers: a hashboard's serial history shows boards that keep failing.
CREATE TABLE maintenance.repair_parts (
  repair_id         bigint NOT NULL REFERENCES maintenance.repairs (id) ON DELETE CASCADE,
  kind              text NOT NULL CHECK (kind IN ('fan', 'hashboard', 'psu', 'control_board', 'other')),
  removed_serial    text,
  installed_serial  text,
  CHECK (removed_serial IS NOT NULL OR installed_serial IS NOT NULL)
);
CREATE INDEX repair_parts_removed ON maintenance.repair_parts (removed_serial);
CREATE INDEX repair_parts_installed ON maintenance.repair_parts (installed_serial);

-- People who can be on call, with the contacts pages reach them by.
CREATE TABLE maintenance.staff (
  name      text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
  email     text,
  telegram  text,
  slack     text,
  active    boolean NOT NULL DEFAULT true
);

-- The rotation: members take turns, one shift each, shifts starting at the hand-over time in the farm's zone.
CREATE TABLE maintenance.rota_settings (
  id               integer PRIMARY KEY CHECK (id = 1),
  time_zone        text NOT NULL,
  handover         text NOT NULL CHECK (handover ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  shift            text NOT NULL CHECK (shift IN ('daily', 'weekly')),
  -- The local date whose hand-over starts the first member's shift.
  anchor           date NOT NULL,
  escalate_after_s integer NOT NULL CHECK (escalate_after_s BETWEEN 60 AND 86400),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  updated_by       text NOT NULL DEFAULT ''
);
CREATE TABLE maintenance.rota_members (
  position  integer PRIMARY KEY CHECK (position >= 0),
  name      text NOT NULL UNIQUE REFERENCES maintenance.staff (name) ON UPDATE CASCADE
);
-- Swaps and cover: this person is on call from .. to, whatever the rotation says.
CREATE TABLE maintenance.rota_overrides (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL REFERENCES maintenance.staff (name) ON UPDATE CASCADE,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason      text NOT NULL DEFAULT '',
  created_by  text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rota_overrides_time ON maintenance.rota_overrides (starts_at, ends_at);
