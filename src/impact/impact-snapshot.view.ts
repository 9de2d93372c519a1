import { formatMoney } from '../domain/money';
import type { ImpactSnapshot } from './impact.repository';

/** Jobs are counts in FTE (JSON numbers, as a structure's jobs_fte); revenue is money (a decimal string). */
export function impactSnapshotView(s: ImpactSnapshot) {
  return {
    id: s.id,
    fund_id: s.fund_id,
    structure_id: s.structure_id,
    snapshot_date: s.snapshot_date,
    jobs_fte: s.jobs_fte.toNumber(),
    jobs_created: s.jobs_created.toNumber(),
    jobs_maintained: s.jobs_maintained.toNumber(),
    still_active: s.still_active,
    revenue: s.revenue === null ? null : formatMoney(s.revenue),
    recorded_by: s.recorded_by,
    created_at: s.created_at.toISOString(),
  };
}
