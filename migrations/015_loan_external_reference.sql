-- CSV imports (docs/imports.md): a loan brought from another system keeps that system's reference,
-- by which its repayments name it and by which a second import of the same file finds it again.
-- NULL for loans entered through the API; unique within a fund, which is what makes a re-import a no-op.
ALTER TABLE loans ADD COLUMN external_reference text CHECK (external_reference IS NULL OR length(external_reference) BETWEEN 1 AND 100);
CREATE UNIQUE INDEX loans_fund_id_external_reference_key ON loans (fund_id, external_reference) WHERE external_reference IS NOT NULL;
