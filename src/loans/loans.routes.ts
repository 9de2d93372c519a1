import { Router } from 'express';
import type { Db } from '../db/connect';
import { actorOf, contextOf } from '../http/auth';
import { asOfOf, type Today } from '../http/clock';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { loanFundingView, loanShares, type ShareBody } from '../funding/loan-funding';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { cancelLoan } from './cancel-loan';
import { createLoan, type CreateLoanBody } from './create-loan';
import { findVisibleLoan } from './find-visible-loan';
import { getLoan } from './get-loan';
import { getLoanSchedule } from './get-loan-schedule';
import { listScheduleVersions } from './list-schedule-versions';
import { loanDetailView, loanScheduleView, loanView, scheduleVersionsView } from './loan.view';
import { listLoans, type LoanFilters } from './list-loans';
import { setLoanFunding } from './set-loan-funding';
import type { LeverageBody } from './loan-leverage';
import { updateLoanLeverage } from './update-loan-leverage';

/** `reads`: where its list goes, the read replica if there is one (docs/read-replica.md); the rest reads and writes `db`. */
export function loansRouter(db: Db, reads: Db, today: Today): Router {
  const router = Router();

  router.post('/v1/loans', async (req, res) => {
    const created = await createLoan(
      db,
      contextOf(req),
      req.body as CreateLoanBody,
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/loans/${created.body.id}`), created);
  });

  router.get('/v1/loans', async (req, res) => {
    const page = pageOf(req.query, UUID_KEY);
    const rows = await listLoans(reads, actorOf(req), req.query as LoanFilters, page, today());
    const { items, next_cursor } = pageResult(rows, page, (loan) => loan.id);
    res.json({ items: items.map(loanView), next_cursor });
  });

  router.get('/v1/loans/:loan_id', async (req, res) => {
    const asOf = asOfOf(req.query, today);
    const { loan, arrears, outstanding } = await getLoan(
      db,
      actorOf(req),
      String(req.params.loan_id),
      asOf,
    );
    res.json(loanDetailView(loan, arrears, outstanding, asOf));
  });

  // Issue 15 item 4 (h-terr): the financing the loan unlocked, its one editable part.
  router.patch('/v1/loans/:loan_id', async (req, res) => {
    res.json(
      loanView(
        await updateLoanLeverage(
          db,
          contextOf(req),
          String(req.params.loan_id),
          req.body as LeverageBody,
        ),
      ),
    );
  });

  router.post('/v1/loans/:loan_id/cancellation', async (req, res) => {
    const reason = (req.body as { reason?: string } | undefined)?.reason;
    sendStored(
      res,
      await cancelLoan(
        db,
        contextOf(req),
        String(req.params.loan_id),
        today(),
        reason,
        idempotencyOf(req),
      ),
    );
  });

  router.get('/v1/loans/:loan_id/schedule', async (req, res) => {
    const asOf = asOfOf(req.query, today);
    res.json(
      loanScheduleView(
        await getLoanSchedule(db, actorOf(req), String(req.params.loan_id), asOf),
        asOf,
      ),
    );
  });

  router.get('/v1/loans/:loan_id/schedule/versions', async (req, res) => {
    res.json(
      scheduleVersionsView(
        await listScheduleVersions(db, actorOf(req), String(req.params.loan_id)),
      ),
    );
  });

  router.get('/v1/loans/:loan_id/schedule/versions/:version', async (req, res) => {
    const asOf = asOfOf(req.query, today);
    const version = Number(req.params.version);
    res.json(
      loanScheduleView(
        await getLoanSchedule(db, actorOf(req), String(req.params.loan_id), asOf, version),
        asOf,
      ),
    );
  });

  // A loan's split between the fund's funding sources (docs/funding.md): the rules in src/funding/.
  router.get('/v1/loans/:loan_id/funding', async (req, res) => {
    const loan = await findVisibleLoan(db, actorOf(req), String(req.params.loan_id));
    res.json(loanFundingView(loan.id, await loanShares(db, loan.id)));
  });

  router.put('/v1/loans/:loan_id/funding', async (req, res) => {
    res.json(
      await setLoanFunding(
        db,
        contextOf(req),
        String(req.params.loan_id),
        req.body as { shares: ShareBody[] },
      ),
    );
  });

  return router;
}
