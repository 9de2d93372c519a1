import { Router } from 'express';
import type { Db } from '../db/connect';
import type { CalendarDate } from '../domain/dates';
import { DomainError } from '../domain/errors';
import { actorOf, contextOf, seesFund } from '../http/auth';
import { idempotencyOf, sendStored } from '../idempotency/idempotency-header';
import { createFundingSource } from './create-funding-source';
import { euIndicatorsCsv, fundingReportCsv, sendCsv } from './funding-csv';
import type { FundingSourceFields } from './funding-source-rules';
import { fundingSourceView } from './funding-source.view';
import { findFundingSourceById, listFundingSources } from './funding.repository';
import { getEuIndicators, type EuIndicatorsQuery } from './get-eu-indicators';
import { fundingReportView } from './funding-report.view';
import { getFundingReport } from './get-funding-report';
import { updateFundingSource, type UpdateFundingSourceBody } from './update-funding-source';
import { findVisibleFund } from '../funds/find-visible-fund';

/** Funding sources, the report by source and the EU common indicators (docs/funding.md). */
export function fundingRouter(db: Db, reads: Db): Router {
  const router = Router();

  router.post('/v1/funds/:fund_id/funding-sources', async (req, res) => {
    const fundId = String(req.params.fund_id);
    const created = await createFundingSource(
      db,
      contextOf(req),
      fundId,
      req.body as FundingSourceFields,
      idempotencyOf(req),
    );
    sendStored(res.location(`/v1/funds/${fundId}/funding-sources/${created.body.id}`), created);
  });

  router.get('/v1/funds/:fund_id/funding-sources', async (req, res) => {
    const fund = await findVisibleFund(db, actorOf(req), String(req.params.fund_id));
    res.json({ items: (await listFundingSources(reads, fund.id)).map(fundingSourceView) });
  });

  router.get('/v1/funds/:fund_id/funding-sources/:source_id', async (req, res) => {
    const source = await findFundingSourceById(db, String(req.params.source_id));
    if (!source || source.fund_id !== req.params.fund_id || !seesFund(actorOf(req), source.fund_id))
      throw new DomainError('not_found', 'No such funding source.');
    res.json(fundingSourceView(source));
  });

  router.patch('/v1/funds/:fund_id/funding-sources/:source_id', async (req, res) => {
    const source = await updateFundingSource(
      db,
      contextOf(req),
      String(req.params.fund_id),
      String(req.params.source_id),
      req.body as UpdateFundingSourceBody,
    );
    res.json(fundingSourceView(source));
  });

  // The CSV versions (issue 15 item 3): the same figures and query, as a file to save.
  router.get('/v1/funds/:fund_id/funding-report.csv', async (req, res) => {
    const query = req.query as { from: CalendarDate; to: CalendarDate };
    const report = await getFundingReport(
      reads,
      actorOf(req),
      String(req.params.fund_id),
      query.from,
      query.to,
    );
    sendCsv(
      res,
      `funding-report-${report.fund_id}-${report.from}-${report.to}.csv`,
      fundingReportCsv(fundingReportView(report)),
    );
  });

  router.get('/v1/funds/:fund_id/eu-indicators.csv', async (req, res) => {
    const indicators = await getEuIndicators(
      reads,
      actorOf(req),
      String(req.params.fund_id),
      req.query as unknown as EuIndicatorsQuery,
    );
    sendCsv(
      res,
      `eu-indicators-${indicators.fund_ids[0]!}-${indicators.from}-${indicators.to}.csv`,
      euIndicatorsCsv(indicators),
    );
  });

  router.get('/v1/funds/:fund_id/funding-report', async (req, res) => {
    const query = req.query as { from: CalendarDate; to: CalendarDate };
    res.json(
      fundingReportView(
        await getFundingReport(
          reads,
          actorOf(req),
          String(req.params.fund_id),
          query.from,
          query.to,
        ),
      ),
    );
  });

  router.get('/v1/funds/:fund_id/eu-indicators', async (req, res) => {
    res.json(
      await getEuIndicators(
        reads,
        actorOf(req),
        String(req.params.fund_id),
        req.query as unknown as EuIndicatorsQuery,
      ),
    );
  });

  return router;
}
