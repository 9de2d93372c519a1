import { Router } from 'express';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { formatMoney } from '../domain/money';
import { actorOf, contextOf, listScope } from '../http/auth';
import { asOfOf, todayInParis } from '../http/clock';
import { pageOf, pageResult, UUID_KEY } from '../http/pagination';
import { cancelLoan } from './cancel-loan';
import { createLoan, type CreateLoanBody } from './create-loan';
import { disburseLoan, type DisbursementBody } from './disburse-loan';
import { findVisibleLoan, getLoanSchedule, type LoanSchedule } from './get-loan-schedule';
import { loanView } from './loan.view';
import { listLoans, listScheduleVersions } from './loans.repository';

function loanScheduleView(schedule: LoanSchedule, asOf: CalendarDate) {
  return {
    loan_id: schedule.loan.id,
    version: schedule.version,
    projected: schedule.projected,
    as_of: asOf,
    instalments: schedule.instalments.map((row, k) => ({
      number: row.number,
      due_date: row.due_date,
      principal: row.principal,
      interest: row.interest,
      total: row.total,
      balance_after: row.balance_after,
      capitalised_interest: row.capitalised_interest,
      paid: formatMoney(schedule.paid[k]!),
      status: schedule.statuses[k]!,
    })),
  };
}

export function loansRouter(db: Db): Router {
  const router = Router();

  router.post('/v1/loans', async (req, res) => {
    const loan = await createLoan(db, contextOf(req), req.body as CreateLoanBody);
    res.status(201).location(`/v1/loans/${loan.id}`).json(loanView(loan));
  });

  router.get('/v1/loans', async (req, res) => {
    const query = req.query as { fund_id?: string; structure_id?: string; status?: string; kind?: string };
    const scope = listScope(actorOf(req), query.fund_id);
    if (scope.structureId && query.structure_id && query.structure_id !== scope.structureId) throw new DomainError('not_found', 'No such structure.');
    const page = pageOf(req.query, UUID_KEY);
    const rows = await listLoans(db, {
      ...scope, structureId: scope.structureId ?? query.structure_id, status: query.status, kind: query.kind, afterId: page.after, limit: page.limit + 1,
    });
    const { items, next_cursor } = pageResult(rows, page, (loan) => loan.id);
    res.json({ items: items.map(loanView), next_cursor });
  });

  router.get('/v1/loans/:loanId', async (req, res) => {
    res.json(loanView(await findVisibleLoan(db, actorOf(req), String(req.params.loanId))));
  });

  router.post('/v1/loans/:loanId/disbursement', async (req, res) => {
    res.json(loanView(await disburseLoan(db, contextOf(req), String(req.params.loanId), req.body as DisbursementBody, todayInParis())));
  });

  router.post('/v1/loans/:loanId/cancellation', async (req, res) => {
    const reason = (req.body as { reason?: string } | undefined)?.reason;
    res.json(loanView(await cancelLoan(db, contextOf(req), String(req.params.loanId), todayInParis(), reason)));
  });

  router.get('/v1/loans/:loanId/schedule', async (req, res) => {
    const asOf = asOfOf(req.query);
    res.json(loanScheduleView(await getLoanSchedule(db, actorOf(req), String(req.params.loanId), asOf), asOf));
  });

  router.get('/v1/loans/:loanId/schedule/versions', async (req, res) => {
    const loan = await findVisibleLoan(db, actorOf(req), String(req.params.loanId));
    const versions = await listScheduleVersions(db, loan.id);
    res.json({
      loan_id: loan.id,
      current_version: loan.schedule_version,
      items: versions.map((v) => ({
        version: v.version, reason: v.reason, effective_date: v.effective_date, instalment_count: Number(v.instalment_count), created_at: v.created_at.toISOString(),
      })),
    });
  });

  router.get('/v1/loans/:loanId/schedule/versions/:version', async (req, res) => {
    const asOf = asOfOf(req.query);
    const version = Number(req.params.version);
    res.json(loanScheduleView(await getLoanSchedule(db, actorOf(req), String(req.params.loanId), asOf, version), asOf));
  });

  return router;
}
