import type { ScheduleRow } from '../domain/schedule';
import { instalmentView } from '../schedules/schedule.view';
import type { InstalmentRow } from './loans.repository';

/** Engine rows → instalments rows of one schedule version (the columns are the API's field names). */
export function instalmentRows(
  loanId: string,
  version: number,
  rows: readonly ScheduleRow[],
): InstalmentRow[] {
  return rows.map((row) => ({ loan_id: loanId, version, ...instalmentView(row) }));
}
