/**
 * The reminder scan (DOMAIN.md "Reminders"; issue 5): with the fund's default offsets (15 and 3 days
 * before a due date, 1, 15 and 30 after it while unpaid), a scan makes every reminder whose send date
 * has come, once, with its delivery job in the outbox; it skips instalments paid since, and a scan
 * after downtime makes what was missed. Loans are made through the API; the scan is the use case the
 * morning job runs, here for one fund at a time.
 */
import { sql } from 'kysely';
import type { CalendarDate } from '../../src/domain/dates';
import { scanReminders } from '../../src/reminders/scan-reminders';
import { ADMIN_KEY, testApp } from '../support/app';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import { as, createKey } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';

let desk: Desk;
beforeEach(async () => {
  // a fund per test: a scan moves its fund's scan mark
  desk = await servicingDesk(await testApp());
});

const scan = async (asOf: string, fundId = desk.fund.id) =>
  scanReminders(await testDb(), asOf as CalendarDate, fundId);

async function remindersOf(loanId: string) {
  const { rows } = await sql<{
    id: string;
    instalment_number: number;
    due_date: string;
    kind: string;
    offset_days: number;
    send_on: string;
    status: string;
  }>`
    SELECT id, instalment_number, due_date, kind, offset_days, send_on, status FROM reminders WHERE loan_id = ${loanId}
    ORDER BY due_date, send_on`.execute(await testDb());
  return rows;
}

const brief = (rows: Awaited<ReturnType<typeof remindersOf>>) =>
  rows.map((r) => `${r.instalment_number} ${r.kind} ${r.offset_days} on ${r.send_on}`);

describe('the reminder scan', () => {
  // 10,000.00 at 12 % over 12 months from 2025-01-15: due on the 15th, from 2025-02-15.
  it('makes the before-due reminders as their send dates come, once each, each with its delivery job', async () => {
    const loan = await disbursedLoan(desk);
    expect(await scan('2025-01-30')).toBe(0);
    expect(await scan('2025-01-31')).toBe(1); // 15 days before 2025-02-15
    expect(await scan('2025-01-31')).toBe(0);
    expect(await scan('2025-02-12')).toBe(1); // 3 days before
    const rows = await remindersOf(loan.id);
    expect(brief(rows)).toEqual(['1 before_due 15 on 2025-01-31', '1 before_due 3 on 2025-02-12']);
    expect(rows.every((r) => r.status === 'pending' && r.due_date === '2025-02-15')).toBe(true);
    const { rows: jobs } = await sql<{ job_id: string; queue: string; payload: unknown }>`
      SELECT job_id, queue, payload FROM outbox WHERE job_id = ANY(${rows.map((r) => `reminder-${r.id}`)}::text[])`.execute(
      await testDb(),
    );
    expect(jobs).toHaveLength(2);
    expect(jobs.every((j) => j.queue === 'reminders')).toBe(true);
    expect(jobs.map((j) => j.payload)).toEqual(
      expect.arrayContaining(rows.map((r) => ({ reminder_id: r.id }))),
    );
  });

  it('skips an instalment paid since, and warns of none already due: after the due date, only after-due reminders', async () => {
    const loan = await disbursedLoan(desk);
    const schedule = (await desk.api.get(`/v1/loans/${loan.id}/schedule?as_of=2025-02-15`))
      .body as { instalments: { total: string }[] };
    expect(
      (
        await repay(desk, loan.id, {
          amount: schedule.instalments[0]!.total,
          value_date: '2025-02-15',
        })
      ).status,
    ).toBe(201);
    // 2025-03-20: instalment 1 is paid; instalment 2 (due 2025-03-15) is unpaid and one day late is past.
    await scan('2025-03-20');
    expect(brief(await remindersOf(loan.id))).toEqual(['2 after_due 1 on 2025-03-16']);
  });

  it('counts arrears a restructuring capitalised as paid from its effective date, as the schedule does', async () => {
    const loan = await disbursedLoan(desk);
    const restructured = await desk.api.post(`/v1/loans/${loan.id}/restructurings`, {
      type: 'extension',
      effective_date: '2025-03-20',
      reason: 'Arrears capitalised',
      remaining_periods: 12,
      capitalise_arrears: true,
    });
    expect(restructured.status).toBe(201);
    const schedule = (await desk.api.get(`/v1/loans/${loan.id}/schedule?as_of=2025-04-20`))
      .body as { instalments: { number: number; status: string }[] };
    expect(schedule.instalments.slice(0, 2).map((row) => row.status)).toEqual(['paid', 'paid']);
    await scan('2025-04-20');
    const made = brief(await remindersOf(loan.id));
    expect(made.filter((line) => line.startsWith('1 ') || line.startsWith('2 '))).toEqual([]);
  });

  it('after days of downtime, makes every after-due reminder missed since the last scan, and no more', async () => {
    const loan = await disbursedLoan(desk);
    expect(await scan('2025-02-10')).toBe(1); // the fund's first scan: every send date by then
    await scan('2025-04-20'); // the next, 69 days later; nothing paid: instalment 1 is 64 days late, 2 is 36, 3 is 5
    expect(brief(await remindersOf(loan.id))).toEqual([
      '1 before_due 15 on 2025-01-31',
      '1 after_due 1 on 2025-02-16',
      '1 after_due 15 on 2025-03-02',
      '1 after_due 30 on 2025-03-17',
      '2 after_due 1 on 2025-03-16',
      '2 after_due 15 on 2025-03-30',
      '2 after_due 30 on 2025-04-14',
      '3 after_due 1 on 2025-04-16',
    ]);
    expect(await scan('2025-04-20')).toBe(0);
  });

  it('looks at the send dates since the fund’s last scan: a loan entered later with a past disbursement date is reminded of what comes next only', async () => {
    await disbursedLoan(desk);
    await scan('2025-04-20');
    const late = await disbursedLoan(desk); // entered after the scan, disbursed on 2025-01-15 too
    expect(await scan('2025-04-21')).toBe(0);
    // Not the reminders sent before the mark (instalment 3's first, on 2025-04-16): those sent from then on.
    await scan('2025-04-30');
    expect(brief(await remindersOf(late.id))).toEqual([
      '3 after_due 15 on 2025-04-30',
      '4 before_due 15 on 2025-04-30',
    ]);
  });

  it('a payment reversed after the day’s scan: the next day’s scan makes the reminder the first did not', async () => {
    const loan = await disbursedLoan(desk);
    const schedule = (await desk.api.get(`/v1/loans/${loan.id}/schedule`)).body as {
      instalments: { total: string }[];
    };
    const paid = await repay(desk, loan.id, {
      amount: schedule.instalments[0]!.total,
      value_date: '2025-02-15',
    });
    expect(paid.status).toBe(201);
    await scan('2025-02-16'); // instalment 1 paid: no reminder of it
    expect(await remindersOf(loan.id)).toEqual([]);
    expect(
      (
        await desk.api.post(`/v1/loans/${loan.id}/repayments/${paid.body.id}/reversal`, {
          reason: 'cheque returned unpaid',
        })
      ).status,
    ).toBe(200);
    await scan('2025-02-17');
    expect(brief(await remindersOf(loan.id))).toContain('1 after_due 1 on 2025-02-16');
  });

  it('makes reminders only for the fund it scans, and none for loans no longer active', async () => {
    const other = await servicingDesk(await testApp());
    const theirs = await disbursedLoan(other);
    const ours = await disbursedLoan(desk);
    await scan('2025-01-31');
    expect(await remindersOf(theirs.id)).toEqual([]);
    expect(brief(await remindersOf(ours.id))).toEqual(['1 before_due 15 on 2025-01-31']);

    const schedule = (await other.api.get(`/v1/loans/${theirs.id}/schedule?as_of=2025-01-15`))
      .body as { instalments: { total: string }[] };
    expect(schedule.instalments).toHaveLength(12);
    const written = await other.api.post(`/v1/loans/${theirs.id}/write-off`, {
      date: '2025-01-20',
      reason: 'Liquidation judiciaire',
    });
    expect(written.status).toBe(200);
    await scan('2025-04-20', other.fund.id);
    expect(await remindersOf(theirs.id)).toEqual([]);
  });
});

describe('the reminders API', () => {
  it('scans on demand (a manager, its fund), then lists the reminders with their state, in the contract', async () => {
    const loan = await disbursedLoan(desk);
    const scanned = await desk.api.post('/v1/reminders/scan', { as_of: '2025-02-20' });
    expectContract(scanned, 'post', '/v1/reminders/scan');
    expect(scanned.status).toBe(200);
    expect(scanned.body).toMatchObject({ as_of: '2025-02-20', fund_id: desk.fund.id });
    expect(scanned.body.created).toBeGreaterThanOrEqual(1);
    const again = await desk.api.post('/v1/reminders/scan', { as_of: '2025-02-20' });
    expect(again.body.created).toBe(0);

    const listed = await desk.api.get(`/v1/reminders?loan_id=${loan.id}`);
    expectContract(listed, 'get', '/v1/reminders');
    expect(
      listed.body.items.map(
        (r: { kind: string; offset_days: number }) => `${r.kind} ${r.offset_days}`,
      ),
    ).toEqual(['after_due 1']);
    expect(listed.body.items[0]).toMatchObject({
      loan_id: loan.id,
      instalment_number: 1,
      due_date: '2025-02-15',
      send_on: '2025-02-16',
      status: 'pending',
      attempts: 0,
      last_error: null,
      sent_at: null,
    });
    expect((await desk.api.get(`/v1/reminders?loan_id=${loan.id}&status=sent`)).body.items).toEqual(
      [],
    );
  });

  it('pages with a cursor, and a structure key sees its own loans’ reminders only', async () => {
    const loan = await disbursedLoan(desk);
    await scan('2025-04-20');
    const first = await desk.api.get(`/v1/reminders?loan_id=${loan.id}&limit=2`);
    expect(first.body.items).toHaveLength(2);
    const second = await desk.api.get(
      `/v1/reminders?loan_id=${loan.id}&limit=2&cursor=${first.body.next_cursor}`,
    );
    expectContract(second, 'get', '/v1/reminders');
    expect(second.body.items[0].id).not.toBe(first.body.items[1].id);

    const other = await servicingDesk(await testApp());
    const theirs = await disbursedLoan(other);
    await scan('2025-04-20', other.fund.id);
    const structureKey = await createKey(await testApp(), {
      role: 'structure',
      structure_id: desk.structure.id,
    });
    const seen = await as(await testApp(), structureKey.secret).get('/v1/reminders?limit=200');
    expect(seen.status).toBe(200);
    expect(seen.body.items.length).toBeGreaterThan(0);
    expect(
      seen.body.items.every((r: { structure_id: string }) => r.structure_id === desk.structure.id),
    ).toBe(true);
    expect(seen.body.items.some((r: { loan_id: string }) => r.loan_id === theirs.id)).toBe(false);
  });

  it('refuses a scan as of a day to come (422), an unknown field (400), a read-only key (403), another fund (404)', async () => {
    const future = await desk.api.post('/v1/reminders/scan', { as_of: '2999-01-01' });
    expect(future.status).toBe(422);
    expect(future.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(future.body.errors).toEqual([expect.objectContaining({ field: 'as_of' })]);
    expect(
      (await desk.api.post('/v1/reminders/scan', { as_of: '2025-02-20', dry_run: true })).status,
    ).toBe(400);
    const auditor = await createKey(await testApp(), { role: 'auditor', fund_id: desk.fund.id });
    expect(
      (
        await as(await testApp(), auditor.secret).post('/v1/reminders/scan', {
          as_of: '2025-02-20',
        })
      ).status,
    ).toBe(403);
    const other = await servicingDesk(await testApp());
    expect(
      (await desk.api.post('/v1/reminders/scan', { as_of: '2025-02-20', fund_id: other.fund.id }))
        .status,
    ).toBe(404);
    const unknown = await as(await testApp(), ADMIN_KEY).post('/v1/reminders/scan', {
      as_of: '2025-02-20',
      fund_id: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ field: 'fund_id' })]);
  });
});
