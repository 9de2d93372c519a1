-- Back-office edits (PATCH /v1/structures/{id}, PATCH /v1/products/{id}) with optimistic concurrency.
-- `version` is the row's ETag: a trigger moves it whenever the stored row changes, whoever updates
-- it, so the ETag changes exactly when the resource does (an UPDATE that changes nothing keeps it).
ALTER TABLE structures ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE products ADD COLUMN version integer NOT NULL DEFAULT 1;
-- A deactivated product takes no new loan; its existing loans go on as before.
ALTER TABLE products ADD COLUMN active boolean NOT NULL DEFAULT true;

CREATE FUNCTION bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$$;
CREATE TRIGGER structures_version BEFORE UPDATE ON structures FOR EACH ROW
  WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION bump_row_version();
CREATE TRIGGER products_version BEFORE UPDATE ON products FOR EACH ROW
  WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION bump_row_version();
