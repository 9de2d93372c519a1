import type { ImpactSnapshotRow } from './impact.repository';

/** Jobs are counts in FTE (JSON numbers, as a structure's jobs_fte); revenue is money (a decimal string). */
export function impactSnapshotView(s: ImpactSnapshotRow) {
  return {
    id: s.id,
    fund_id: s.fund_id,
    structure_id: s.structure_id,
    snapshot_date: s.snapshot_date,
    jobs_fte: Number(s.jobs_fte),
    jobs_created: Number(s.jobs_created),
    jobs_maintained: Number(s.jobs_maintained),
    still_active: s.still_active,
    revenue: s.revenue,
    recorded_by: s.recorded_by,
    created_at: s.created_at.toISOString(),
  };
}
