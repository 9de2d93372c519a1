import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf, contextOf } from '../http/auth';
import { todayInParis } from '../http/clock';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { loanView } from '../loans/loan.view';
import { declareMoratorium, type MoratoriumBody } from './declare-moratorium';
import { getRepayment, listRepaymentsOfLoan, listRestructuringsOfLoan } from './list-repayments';
import { recordRepayment, type RepaymentBody } from './record-repayment';
import { repaymentView } from './repayment.view';
import { restructureLoan, type RestructuringBody } from './restructure-loan';
import { restructuringView } from './restructuring.view';
import { reverseRepayment } from './reverse-repayment';
import { writeOffLoan, type WriteOffBody } from './write-off-loan';

export function servicingRouter(db: Db): Router {
  const router = Router();

  router.post('/v1/loans/:loanId/repayments', async (req, res) => {
    const loanId = String(req.params.loanId);
    const key = String(req.get('Idempotency-Key'));
    const result = await recordRepayment(db, contextOf(req), loanId, req.body as RepaymentBody, key, todayInParis());
    const body = result.body as { id: string };
    if (result.replayed) res.setHeader('Idempotency-Replayed', 'true');
    res.status(result.status).location(`/v1/loans/${loanId}/repayments/${body.id}`).json(body);
  });

  router.get('/v1/loans/:loanId/repayments', async (req, res) => {
    const page = pageOf(req.query, SERIAL_KEY);
    const { repayments, allocations } = await listRepaymentsOfLoan(db, actorOf(req), String(req.params.loanId), page);
    const { items, next_cursor } = pageResult(repayments, page, (r) => r.seq);
    res.json({ items: items.map((r) => repaymentView(r, allocations)), next_cursor });
  });

  router.get('/v1/loans/:loanId/repayments/:repaymentId', async (req, res) => {
    const { repayment, allocations } = await getRepayment(db, actorOf(req), String(req.params.loanId), String(req.params.repaymentId));
    res.json(repaymentView(repayment, allocations));
  });

  router.post('/v1/loans/:loanId/repayments/:repaymentId/reversal', async (req, res) => {
    const { reason } = req.body as { reason: string };
    res.json(await reverseRepayment(db, contextOf(req), String(req.params.loanId), String(req.params.repaymentId), reason, todayInParis()));
  });

  router.post('/v1/loans/:loanId/restructurings', async (req, res) => {
    const loanId = String(req.params.loanId);
    const restructuring = await restructureLoan(db, contextOf(req), loanId, req.body as RestructuringBody, todayInParis());
    res.status(201).location(`/v1/loans/${loanId}/restructurings`).json(restructuring);
  });

  router.get('/v1/loans/:loanId/restructurings', async (req, res) => {
    const rows = await listRestructuringsOfLoan(db, actorOf(req), String(req.params.loanId));
    res.json({ items: rows.map(restructuringView) });
  });

  router.post('/v1/loans/:loanId/write-off', async (req, res) => {
    res.json(loanView(await writeOffLoan(db, contextOf(req), String(req.params.loanId), req.body as WriteOffBody, todayInParis())));
  });

  router.post('/v1/funds/:fundId/moratoria', async (req, res) => {
    res.status(201).json(await declareMoratorium(db, contextOf(req), String(req.params.fundId), req.body as MoratoriumBody, todayInParis()));
  });

  return router;
}
