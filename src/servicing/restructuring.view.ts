import { formatRate } from '../domain/rate';
import type { Restructuring } from './servicing.repository';

export function restructuringView(r: Restructuring) {
  return {
    id: r.id,
    loan_id: r.loan_id,
    type: r.type,
    effective_date: r.effective_date,
    reason: r.reason,
    periods: r.periods,
    deferral_periods: r.periods,
    deferral_type: r.deferral_type,
    remaining_periods: r.remaining_periods,
    term_periods: r.term_periods,
    annual_rate_percent: r.annual_rate_percent === null ? null : formatRate(r.annual_rate_percent),
    capitalise_arrears: r.capitalise_arrears,
    moratorium_id: r.moratorium_id,
    schedule_version: r.schedule_version,
    created_at: r.created_at.toISOString(),
  };
}
