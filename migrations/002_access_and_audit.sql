-- API keys (only a hash of the secret is kept) and the append-only, hash-chained audit trail.

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  role          text NOT NULL CHECK (role IN ('manager', 'auditor', 'structure')),
  fund_id       uuid NOT NULL REFERENCES funds (id),
  structure_id  uuid,
  label         text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
  secret_hash   text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  CHECK ((role = 'structure') = (structure_id IS NOT NULL)),
  FOREIGN KEY (fund_id, structure_id) REFERENCES structures (fund_id, id)
);
CREATE INDEX api_keys_fund ON api_keys (fund_id, created_at, id);

-- One chain per fund: hash = SHA-256(prev_hash || canonical JSON of the event), seq 1, 2, 3, …
CREATE TABLE audit_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fund_id       uuid NOT NULL REFERENCES funds (id),
  seq           integer NOT NULL CHECK (seq >= 1),
  occurred_at   timestamptz NOT NULL,
  actor_key_id  text NOT NULL,
  action        text NOT NULL,
  entity_type   text NOT NULL,
  entity_id     uuid NOT NULL,
  request_id    text,
  state         jsonb NOT NULL,
  prev_hash     text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash          text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  UNIQUE (fund_id, seq)
);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
