import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { isUniqueViolation } from '../db/errors';
import { DomainError, type FieldError } from '../domain/errors';
import { ExactDecimal } from '../domain/exact-decimal';
import { assertCanWrite, seesStructure, type RequestContext } from '../http/auth';
import { assertIfMatch } from '../http/etag';
import { changedMembers, fieldChanges } from '../http/merge-patch';
import { STRICT_OUTBOUND, type OutboundPolicy } from '../http/outbound';
import { webhookUrlErrors } from '../http/webhook-url-field';
import {
  checkStructure,
  duplicateSiret,
  structureColumns,
  type StructureFields,
} from './structure-rules';
import { structureView } from './structure.view';
import {
  findStructureById,
  lockStructureForUpdate,
  structureHasLoans,
  updateStructureRow,
  type Structure,
  type StructureChanges,
} from './structures.repository';

/** A JSON merge patch of the structure: a member absent is kept, `null` clears an optional one. */
export type UpdateStructureBody = Partial<StructureFields>;

/** Loans are granted to the legal person these name: they change only while no loan does. */
const IDENTIFIERS = ['siret', 'rna'] as const;
/** Contact data: in the audit event's list of changes by name only. */
const CONTACT = new Set(['contact_email']);

const storedFields = (s: Structure): StructureFields => ({
  legal_name: s.legal_name,
  siret: s.siret,
  rna: s.rna,
  legal_form: s.legal_form,
  esus: s.esus,
  naf_code: s.naf_code,
  commune_code: s.commune_code,
  department_code: s.department_code,
  region_code: s.region_code,
  jobs_fte: s.jobs_fte,
  contact_email: s.contact_email,
  webhook_url: s.webhook_url,
  size_class: s.size_class,
  qpv: s.qpv,
});

/** 12.5 and 12.50 are one number of jobs. */
const sameColumn = (_field: keyof StructureChanges, a: unknown, b: unknown) =>
  a instanceof ExactDecimal && b instanceof ExactDecimal ? a.eq(b) : a === b;

/**
 * PATCH /v1/structures/{id}: the fund's manager (or the admin) edits a structure; a structure key reads
 * its own but may not edit it (403), an auditor neither. Validated as at creation, on the merged
 * structure. The ETag check, the rules and the write happen under the row's lock: two edits sent with
 * the same ETag cannot both pass. An edit that changes nothing writes nothing (same ETag, no event).
 */
export async function updateStructure(
  db: Db,
  context: RequestContext,
  structureId: string,
  body: UpdateStructureBody,
  ifMatch: string | undefined,
  outbound: OutboundPolicy = STRICT_OUTBOUND,
): Promise<Structure> {
  const found = await findStructureById(db, structureId);
  if (!found || !seesStructure(context.actor, found.fund_id, found.id))
    throw new DomainError('not_found', 'No such structure.');
  assertCanWrite(context.actor);
  const urlErrors =
    body.webhook_url === undefined ? [] : webhookUrlErrors(body.webhook_url, outbound);
  return db
    .transaction()
    .execute(async (trx) => {
      const before = (await lockStructureForUpdate(trx, structureId))!;
      assertIfMatch(ifMatch, before.version);
      const merged: StructureFields = { ...storedFields(before), ...body };
      const renamed: FieldError[] = IDENTIFIERS.filter(
        (field) => (merged[field] ?? null) !== before[field],
      ).map((field) => ({ field, message: 'cannot change: the structure has loans' }));
      if (renamed.length > 0 && (await structureHasLoans(trx, structureId))) {
        throw new DomainError(
          'conflict',
          'The structure’s identifiers cannot change once a loan has been granted to it.',
          renamed,
        );
      }
      const broken = [...checkStructure(merged), ...urlErrors];
      if (broken.length > 0)
        throw new DomainError('rule_violation', 'The structure breaks a business rule.', broken);
      const changes = changedMembers<StructureChanges>(
        before,
        structureColumns(merged),
        sameColumn,
      );
      if (Object.keys(changes).length === 0) return before;
      const after = await updateStructureRow(trx, structureId, changes);
      const changed = fieldChanges(structureView(before), structureView(after), CONTACT);
      await recordAuditEvent(trx, context, {
        fundId: after.fund_id,
        action: 'structure.updated',
        entityType: 'structure',
        entityId: after.id,
        state: { ...structureView(after), changes: changed },
      });
      return after;
    })
    .catch((error: unknown) => {
      throw isUniqueViolation(error, 'structures_fund_id_siret_key') ? duplicateSiret() : error;
    });
}
