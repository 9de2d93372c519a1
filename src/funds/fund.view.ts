import type { Fund } from './funds.repository';

export function fundView(fund: Fund) {
  return {
    id: fund.id,
    name: fund.name,
    region_code: fund.region_code,
    department_codes: fund.department_codes,
    currency: fund.currency,
    reminder_days_before: fund.reminder_days_before,
    reminder_days_after: fund.reminder_days_after,
    reminder_channels: fund.reminder_channels,
    webhook_url: fund.webhook_url,
    created_at: fund.created_at.toISOString(),
  };
}
