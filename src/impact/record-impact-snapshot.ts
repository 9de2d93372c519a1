import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { isUniqueViolation } from '../db/errors';
import { parseDate, type CalendarDate } from '../domain/dates';
import { DomainError, type FieldError } from '../domain/errors';
import { parseMoney } from '../domain/money';
import { seesStructure, type Actor, type RequestContext } from '../http/auth';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { findStructure } from '../structures/find-structure';
import { jobsOf } from '../structures/structure-rules'; // jobs in FTE are read as a structure's are
import { impactSnapshotView } from './impact-snapshot.view';
import { insertImpactSnapshot } from './impact.repository';

export interface ImpactSnapshotBody {
  snapshot_date: string;
  jobs_fte: number | string;
  jobs_created: number | string;
  jobs_maintained: number | string;
  still_active: boolean;
  revenue?: string | null;
}

/**
 * The one write of a structure key: a partner portal asks the borrower each year how it is doing.
 * The fund's manager (and the admin) may record it too; an auditor reads only (403).
 */
function assertMayRecord(actor: Actor, structureId: string): void {
  if (actor.role === 'admin' || actor.role === 'manager') return;
  if (actor.role === 'structure' && actor.structureId === structureId) return;
  throw new DomainError('forbidden', `A ${actor.role} key is read-only.`);
}

const duplicate = (date: string) =>
  new DomainError('conflict', `The structure already has an impact snapshot dated ${date}.`, [
    { field: 'snapshot_date', message: 'already recorded' },
  ]);

/** POST /v1/structures/{id}/impact-snapshots: one per structure and date (409 on a second), audited in the fund's chain. */
export async function recordImpactSnapshot(
  db: Db,
  context: RequestContext,
  structureId: string,
  body: ImpactSnapshotBody,
  today: CalendarDate,
  idempotency?: IdempotentRequest,
) {
  const structure = await findStructure(db, structureId);
  if (!structure || !seesStructure(context.actor, structure.fund_id, structure.id))
    throw new DomainError('not_found', 'No such structure.');
  assertMayRecord(context.actor, structure.id);
  const broken: FieldError[] = [];
  const jobs = {
    jobs_fte: jobsOf(body.jobs_fte),
    jobs_created: jobsOf(body.jobs_created),
    jobs_maintained: jobsOf(body.jobs_maintained),
  };
  for (const [field, value] of Object.entries(jobs))
    if (value === undefined) broken.push({ field, message: 'must have at most 2 decimals' });
  if (body.snapshot_date > today)
    broken.push({
      field: 'snapshot_date',
      message: `is after today (${today}): a snapshot says what was`,
    });
  if (broken.length > 0)
    throw new DomainError('rule_violation', 'The impact snapshot breaks a business rule.', broken);
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      const snapshot = await insertImpactSnapshot(trx, {
        id: uuidv7(),
        fund_id: structure.fund_id,
        structure_id: structure.id,
        snapshot_date: parseDate(body.snapshot_date),
        jobs_fte: jobs.jobs_fte!,
        jobs_created: jobs.jobs_created!,
        jobs_maintained: jobs.jobs_maintained!,
        still_active: body.still_active,
        revenue: body.revenue == null ? null : parseMoney(body.revenue),
        recorded_by: context.actor.keyId,
      });
      await recordAuditEvent(trx, context, {
        fundId: snapshot.fund_id,
        action: 'impact_snapshot.recorded',
        entityType: 'impact_snapshot',
        entityId: snapshot.id,
        state: impactSnapshotView(snapshot),
      });
      return snapshot;
    },
    (snapshot) => ({ status: 201, body: impactSnapshotView(snapshot) }),
  ).catch((error: unknown) => {
    throw isUniqueViolation(error, 'impact_snapshots_structure_date_key')
      ? duplicate(body.snapshot_date)
      : error;
  });
}
