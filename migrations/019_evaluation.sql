-- Issue 15, item 4 (docs/evaluation.md): what the evaluation report needs beyond the impact snapshots.

-- A structure located in a priority urban neighbourhood (quartier prioritaire de la politique de la
-- ville, QPV), as the fund's back office records it.
ALTER TABLE structures ADD COLUMN qpv boolean NOT NULL DEFAULT false;

-- Leverage: the other financing a loan unlocked for its project, as the fund records it (bank loans
-- and grants obtained alongside it). Amounts, never negative; 0 when none was recorded.
ALTER TABLE loans ADD COLUMN leverage_bank_loans numeric(14,2) NOT NULL DEFAULT 0 CHECK (leverage_bank_loans >= 0);
ALTER TABLE loans ADD COLUMN leverage_grants numeric(14,2) NOT NULL DEFAULT 0 CHECK (leverage_grants >= 0);

-- A report's type: the resilience report (every report so far, and the monthly schedule's) or the
-- evaluation report (POST /v1/reports with `type: evaluation`).
ALTER TABLE reports ADD COLUMN type text NOT NULL DEFAULT 'resilience' CHECK (type IN ('resilience', 'evaluation'));
