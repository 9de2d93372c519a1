import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/app';
import { hashSecret } from '../../src/http/auth';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH } from './app';
import { testDb } from './db';
import { createKey } from './portfolio';
import { disbursedLoan, servicingDesk, type Desk } from './servicing';

/** The real app, as testApp() builds it, with pages of `corsOrigins` allowed to call it. */
export async function corsApp(corsOrigins: readonly string[]): Promise<Express> {
  return createApp({
    logger: pino({ level: 'silent' }),
    db: await testDb(),
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
    corsOrigins,
  });
}

/** What a partner portal works with: a structure's disbursed loan, and the structure's own key. */
export async function portalStory(
  app: Express,
): Promise<{ desk: Desk; loanId: string; structureKey: string }> {
  const desk = await servicingDesk(app);
  const { id } = await disbursedLoan(desk);
  const key = await createKey(
    app,
    { role: 'structure', structure_id: desk.structure.id },
    desk.manager.secret,
  );
  return { desk, loanId: id, structureKey: key.secret };
}

/** A loan simulation, as the public preview takes it. */
export const PREVIEW_TERMS = {
  principal: '10000.00',
  annual_rate_percent: '12',
  periodicity: 'monthly',
  term_periods: 12,
  method: 'annuity',
  disbursement_date: '2025-01-15',
} as const;
