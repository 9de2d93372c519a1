import { Router } from 'express';
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { cents, formatMoney } from '../domain/money';
import { findFund } from '../funds/find-fund';
import { actorOf, seesFund } from '../http/auth';
import { asOfOf } from '../http/clock';
import { getTrialBalance } from './get-trial-balance';

export function ledgerRouter(db: Db): Router {
  const router = Router();

  router.get('/v1/funds/:fundId/ledger/trial-balance', async (req, res) => {
    const fundId = String(req.params.fundId);
    const fund = seesFund(actorOf(req), fundId) ? await findFund(db, fundId) : undefined;
    if (!fund) throw new DomainError('not_found', 'No such fund.');
    const asOf = asOfOf(req.query);
    const lines = await getTrialBalance(db, fund.id, asOf);
    const totalDebits = lines.reduce((sum, line) => sum + line.debits, 0n);
    const totalCredits = lines.reduce((sum, line) => sum + line.credits, 0n);
    res.json({
      fund_id: fund.id,
      as_of: asOf,
      currency: fund.currency,
      accounts: lines.map((line) => ({
        account: line.account, debits: formatMoney(line.debits), credits: formatMoney(line.credits), balance: formatMoney(line.balance),
      })),
      total_debits: formatMoney(cents(totalDebits)),
      total_credits: formatMoney(cents(totalCredits)),
    });
  });

  return router;
}
