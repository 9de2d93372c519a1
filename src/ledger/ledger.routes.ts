import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf } from '../http/auth';
import { asOfOf, type Today } from '../http/clock';
import { getTrialBalance } from './get-trial-balance';
import { getLoanStatement } from './get-loan-statement';
import { loanStatementView, trialBalanceView } from './ledger.view';

/** `reads`: where the trial balance sums the journal, the read replica if any (docs/read-replica.md). */
export function ledgerRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();

  router.get('/v1/funds/:fund_id/ledger/trial-balance', async (req, res) => {
    res.json(
      trialBalanceView(
        await getTrialBalance(
          db,
          actorOf(req),
          String(req.params.fund_id),
          asOfOf(req.query, today),
          reads,
        ),
      ),
    );
  });

  router.get('/v1/loans/:loan_id/statement', async (req, res) => {
    res.json(
      loanStatementView(
        await getLoanStatement(
          db,
          actorOf(req),
          String(req.params.loan_id),
          asOfOf(req.query, today),
        ),
      ),
    );
  });

  return router;
}
