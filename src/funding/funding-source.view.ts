import { formatMoney } from '../domain/money';
import type { FundingSource } from './funding.repository';

export function fundingSourceView(s: FundingSource) {
  return {
    id: s.id,
    fund_id: s.fund_id,
    origin: s.origin,
    programme_code: s.programme_code,
    priority: s.priority,
    label: s.label,
    amount_committed: formatMoney(s.amount_committed),
    start_date: s.start_date,
    end_date: s.end_date,
    created_at: s.created_at.toISOString(),
  };
}
