import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf, contextOf } from '../http/auth';
import { type Today } from '../http/clock';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { pageOf, pageResult, SERIAL_KEY } from '../http/pagination';
import { declareMoratorium, type MoratoriumBody } from './declare-moratorium';
import { disburseLoan, type DisbursementBody } from './disburse-loan';
import { getRepayment, listRepaymentsOfLoan, listRestructuringsOfLoan } from './list-repayments';
import { recordRepayment, type RepaymentBody } from './record-repayment';
import { repaymentView } from './repayment.view';
import { restructureLoan, type RestructuringBody } from './restructure-loan';
import { restructuringView } from './restructuring.view';
import { reverseRepayment } from './reverse-repayment';
import { writeOffLoan, type WriteOffBody } from './write-off-loan';

export function servicingRouter(db: Db, today: Today): Router {
  const router = Router();

  // The disbursement is the loan's first servicing step: its journal entry and rebooking live here.
  router.post('/v1/loans/:loan_id/disbursement', async (req, res) => {
    sendStored(
      res,
      await disburseLoan(
        db,
        contextOf(req),
        String(req.params.loan_id),
        req.body as DisbursementBody,
        today(),
        idempotencyOf(req),
      ),
    );
  });

  router.post('/v1/loans/:loan_id/repayments', async (req, res) => {
    const loanId = String(req.params.loan_id);
    const key = String(req.get('Idempotency-Key'));
    const result = await recordRepayment(
      db,
      contextOf(req),
      loanId,
      req.body as RepaymentBody,
      key,
      today(),
    );
    sendStored(
      res.location(`/v1/loans/${loanId}/repayments/${(result.body as { id: string }).id}`),
      result,
    );
  });

  router.get('/v1/loans/:loan_id/repayments', async (req, res) => {
    const page = pageOf(req.query, SERIAL_KEY);
    const { repayments, allocations } = await listRepaymentsOfLoan(
      db,
      actorOf(req),
      String(req.params.loan_id),
      page,
    );
    const { items, next_cursor } = pageResult(repayments, page, (r) => r.seq);
    res.json({ items: items.map((r) => repaymentView(r, allocations)), next_cursor });
  });

  router.get('/v1/loans/:loan_id/repayments/:repayment_id', async (req, res) => {
    const { repayment, allocations } = await getRepayment(
      db,
      actorOf(req),
      String(req.params.loan_id),
      String(req.params.repayment_id),
    );
    res.json(repaymentView(repayment, allocations));
  });

  router.post('/v1/loans/:loan_id/repayments/:repayment_id/reversal', async (req, res) => {
    const { reason } = req.body as { reason: string };
    sendStored(
      res,
      await reverseRepayment(
        db,
        contextOf(req),
        String(req.params.loan_id),
        String(req.params.repayment_id),
        reason,
        today(),
        idempotencyOf(req),
      ),
    );
  });

  router.post('/v1/loans/:loan_id/restructurings', async (req, res) => {
    const loanId = String(req.params.loan_id);
    const restructuring = await restructureLoan(
      db,
      contextOf(req),
      loanId,
      req.body as RestructuringBody,
      today(),
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/loans/${loanId}/restructurings`), restructuring);
  });

  router.get('/v1/loans/:loan_id/restructurings', async (req, res) => {
    const rows = await listRestructuringsOfLoan(db, actorOf(req), String(req.params.loan_id));
    res.json({ items: rows.map(restructuringView) });
  });

  router.post('/v1/loans/:loan_id/write-off', async (req, res) => {
    sendStored(
      res,
      await writeOffLoan(
        db,
        contextOf(req),
        String(req.params.loan_id),
        req.body as WriteOffBody,
        today(),
        idempotencyOf(req),
      ),
    );
  });

  router.post('/v1/funds/:fund_id/moratoria', async (req, res) => {
    sendStored(
      res,
      await declareMoratorium(
        db,
        contextOf(req),
        String(req.params.fund_id),
        req.body as MoratoriumBody,
        today(),
        idempotencyOf(req),
      ),
    );
  });

  return router;
}
