-- Resilience reports (DOMAIN.md "Resilience reporting"): computed by a worker, then immutable. The
-- result is kept as computed, with the SHA-256 of its canonical JSON (keys sorted, no white space)
-- and of its CSV, so that an auditor can check a copy against them.
CREATE TABLE reports (
  id            uuid PRIMARY KEY,
  seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id       uuid NOT NULL REFERENCES funds (id),
  as_of         date NOT NULL,
  trigger       text NOT NULL CHECK (trigger IN ('request', 'schedule')),
  requested_by  text, -- the API key's id; null for the monthly schedule
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error         text,
  result        json, -- json, not jsonb: kept as computed, its members in their order (the CSV's)
  csv           text,
  sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  csv_sha256    text CHECK (csv_sha256 ~ '^[0-9a-f]{64}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  CHECK ((status = 'done') = (result IS NOT NULL AND csv IS NOT NULL AND sha256 IS NOT NULL AND csv_sha256 IS NOT NULL AND finished_at IS NOT NULL)),
  CHECK ((trigger = 'request') = (requested_by IS NOT NULL))
);
CREATE INDEX reports_fund ON reports (fund_id, seq);
-- The monthly schedule makes one report per fund and date, however often its job runs.
CREATE UNIQUE INDEX reports_scheduled ON reports (fund_id, as_of) WHERE trigger = 'schedule';

-- A finished report is never changed nor deleted: PostgreSQL refuses it, whatever the code asks.
CREATE FUNCTION reports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'reports are never deleted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.status = 'done' THEN
    RAISE EXCEPTION 'report % is done: its result is immutable', OLD.id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER reports_immutable BEFORE UPDATE OR DELETE ON reports FOR EACH ROW EXECUTE FUNCTION reports_immutable();
