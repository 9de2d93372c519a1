-- Partner events (README "Events and webhooks"): every change a partner cares about, written in the
-- change's own transaction (a transactional outbox), readable at GET /v1/events and pushed to the
-- webhook endpoints that subscribed to its type. `dedup_key`: an event made by a scan or a job that
-- may run twice (loan.overdue, reminder.*) is made once.
CREATE TABLE events (
  id           uuid PRIMARY KEY,
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  type         text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
  fund_id      uuid NOT NULL REFERENCES funds (id),
  structure_id uuid,
  loan_id      uuid,
  data         jsonb NOT NULL,
  request_id   text,
  dedup_key    text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- Most events have no dedup_key: only those that do are in its index.
CREATE UNIQUE INDEX events_dedup_key ON events (dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX events_fund ON events (fund_id, seq);
CREATE INDEX events_structure ON events (structure_id, seq) WHERE structure_id IS NOT NULL;
CREATE INDEX events_loan ON events (loan_id, seq) WHERE loan_id IS NOT NULL;

-- Where a fund (structure_id null: every event of the fund) or a structure (its own loans' events)
-- wants events pushed. The secrets sign (Standard Webhooks); after a rotation the previous one signs
-- alongside until `previous_secret_until`. `failing_since`: the first failed attempt since the last
-- success; an endpoint failing for longer than the setting allows is disabled.
CREATE TABLE webhook_endpoints (
  id                    uuid PRIMARY KEY,
  seq                   bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id               uuid NOT NULL REFERENCES funds (id),
  structure_id          uuid REFERENCES structures (id),
  url                   text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  event_types           text[] NOT NULL CHECK (cardinality(event_types) >= 1),
  description           text,
  enabled               boolean NOT NULL DEFAULT true,
  disabled_reason       text,
  secret                text NOT NULL,
  previous_secret       text,
  previous_secret_until timestamptz,
  failing_since         timestamptz,
  created_by_key_id     text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  deleted_at            timestamptz
);
CREATE INDEX webhook_endpoints_fund ON webhook_endpoints (fund_id) WHERE deleted_at IS NULL;

-- One event owed to one endpoint. Deliveries of one endpoint with the same `order_key` (the loan; for
-- an event of no loan, the event itself) go out one at a time in `seq` order, which is the order of
-- the loan's changes (each change of a loan holds its row's lock while it writes). `waiting`: queued
-- behind an earlier delivery of its endpoint and loan still owed; the one before it, once done, lets
-- it go (and the dispatcher lets go any left waiting with nothing before it), so that a claim reads
-- the deliveries free to go, never the queues behind them. A claim changes no indexed column, and
-- pages keep room for it (fillfactor): it updates the row in place, not its indexes.
CREATE TABLE webhook_deliveries (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq             bigint GENERATED ALWAYS AS IDENTITY,
  endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id),
  event_id        uuid NOT NULL REFERENCES events (id),
  order_key       uuid NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  waiting         boolean NOT NULL DEFAULT false,
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_until   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
) WITH (fillfactor = 70);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, order_key, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_ready ON webhook_deliveries (endpoint_id, next_attempt_at, seq) WHERE status = 'pending' AND NOT waiting;
CREATE INDEX webhook_deliveries_waiting ON webhook_deliveries (seq) WHERE status = 'pending' AND waiting;

-- The delivery log: one row per attempt, what the endpoint answered (or why it did not).
CREATE TABLE webhook_attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id),
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
  event_id    uuid NOT NULL REFERENCES events (id),
  attempt     integer NOT NULL CHECK (attempt >= 1),
  started_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  status_code integer,
  error       text
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_event ON webhook_attempts (endpoint_id, event_id, id);
