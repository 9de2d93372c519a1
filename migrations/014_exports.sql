-- Auditor's export bundles (docs/exports.md): a ZIP of CSV files and a manifest, built by a worker
-- from one snapshot of a fund as of a date. The archive's bytes are kept here, in chunks of about
-- 1 MB written as the archive is made, so that any API process can serve it (the worker may run on
-- another host), on PGlite too.
CREATE TABLE exports (
  id            uuid PRIMARY KEY,
  seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id       uuid NOT NULL REFERENCES funds (id),
  as_of         date NOT NULL,
  requested_by  text NOT NULL, -- the API key's id
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error         text,
  size          bigint CHECK (size >= 0),
  sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  CHECK ((status = 'done') = (size IS NOT NULL AND sha256 IS NOT NULL AND finished_at IS NOT NULL))
);
CREATE INDEX exports_fund ON exports (fund_id, seq);

-- The archive's bytes, in order. An attempt that fails leaves none (it deletes what it wrote).
CREATE TABLE export_chunks (
  export_id  uuid NOT NULL REFERENCES exports (id),
  seq        integer NOT NULL CHECK (seq >= 0),
  bytes      bytea NOT NULL,
  PRIMARY KEY (export_id, seq)
);

-- A finished export, and its bytes, are never changed nor deleted.
CREATE FUNCTION exports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'exports are never deleted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.status = 'done' THEN
    RAISE EXCEPTION 'export % is done: it is immutable', OLD.id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER exports_immutable BEFORE UPDATE OR DELETE ON exports FOR EACH ROW EXECUTE FUNCTION exports_immutable();

CREATE FUNCTION export_chunks_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT status FROM exports WHERE id = OLD.export_id) = 'done' THEN
    RAISE EXCEPTION 'export % is done: its bytes are immutable', OLD.export_id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER export_chunks_immutable BEFORE UPDATE OR DELETE ON export_chunks FOR EACH ROW EXECUTE FUNCTION export_chunks_immutable();

-- The exports queue, for the outbox.
ALTER TABLE outbox DROP CONSTRAINT outbox_queue_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_queue_check CHECK (queue IN ('reminders', 'reports', 'exports'));
