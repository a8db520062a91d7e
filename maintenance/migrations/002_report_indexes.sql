-- The effectiveness report counts each figure in the period its event happened: acknowledgements by acknowledged_at,
-- repairs by fixed_at, self-healed faults by closed_at (opened ones use tickets_opened). Without these a report over
-- a week or a month (the staff page, the Grafana panels) reads the whole year of tickets; bench/tickets.ts measures it.
CREATE INDEX tickets_acknowledged ON maintenance.tickets (acknowledged_at) WHERE acknowledged_at IS NOT NULL;
CREATE INDEX tickets_fixed ON maintenance.tickets (fixed_at) WHERE fixed_at IS NOT NULL;
CREATE INDEX tickets_self_healed ON maintenance.tickets (closed_at) WHERE state = 'self_healed';
-- The backlog (staff page, TV wall, polled) asks for the few tickets in a backlog state among a year of closed ones.
CREATE INDEX tickets_state ON maintenance.tickets (state);
