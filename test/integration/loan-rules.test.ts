import { sql } from 'kysely';
import { testApp } from '../support/app';
import { testDb } from '../support/db';
import { disbursedLoan, servicingDesk } from '../support/servicing';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});

// The loan's one-column rules are domains since migration 005: PostgreSQL still refuses what breaks
// them, whoever writes (here, straight SQL), and what an update writes is checked.
describe('PostgreSQL keeps a loan’s rules itself', () => {
  it.each([
    ['status', sql`status = 'lost'`],
    ['outstanding principal', sql`outstanding_principal = -0.01`],
    ['written-off principal', sql`written_off_principal = -1`],
    ['current rate', sql`current_annual_rate_percent = 100.000001`],
    ['schedule version', sql`schedule_version = -1`],
    ['method', sql`method = 'balloon'`],
    ['term', sql`term_periods = 601`],
    ['principal', sql`principal = 0`],
  ])('refuses a loan whose %s breaks its rule', async (_name, change) => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const db = await testDb();
    await expect(sql`UPDATE loans SET ${change} WHERE id = ${loan.id}`.execute(db)).rejects.toMatchObject({ code: '23514' });
    const row = await db.selectFrom('loans').select(['status', 'outstanding_principal', 'schedule_version']).where('id', '=', loan.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'active', outstanding_principal: '10000.00', schedule_version: 1 });
  });

  it('still refuses rules across columns (an active loan without a disbursement date)', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await expect(sql`UPDATE loans SET disbursed_on = NULL WHERE id = ${loan.id}`.execute(await testDb())).rejects.toMatchObject({ code: '23514' });
  });
});
