import { v7 as uuidv7 } from 'uuid';
import { recordAuditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { isUniqueViolation } from '../db/errors';
import { DomainError, type FieldError } from '../domain/errors';
import {
  departmentOfCommune, isValidCommuneCode, isValidDepartmentCode, isValidNafCode, isValidRegionCode, isValidRna, isValidSiret,
} from '../domain/structure-identifiers';
import { assertCanWrite, type RequestContext } from '../http/auth';
import { findVisibleFund } from '../funds/find-visible-fund';
import { transactOnce, type IdempotentRequest } from '../idempotency/run-idempotently';
import { STRICT_OUTBOUND, type OutboundPolicy } from '../webhooks/outbound';
import { webhookUrlErrors } from '../webhooks/webhook-url-field';
import { structureView } from './structure.view';
import { insertStructure } from './structures.repository';

export interface CreateStructureBody {
  fund_id: string;
  legal_name: string;
  siret?: string | null;
  rna?: string | null;
  legal_form: string;
  esus?: boolean;
  naf_code: string;
  commune_code: string;
  department_code: string;
  region_code: string;
  jobs_fte: number | string;
  contact_email: string;
  webhook_url?: string | null;
}

/** "8899B" → "88.99B": NAF codes are stored as INSEE writes them. */
const nafWithDot = (code: string) => (code.includes('.') ? code : `${code.slice(0, 2)}.${code.slice(2)}`);

/** FTEs as numeric(9,2) text, or undefined when a number has more than 2 decimals. */
function jobsAsText(jobs: number | string): string | undefined {
  if (typeof jobs === 'string') return jobs;
  return Math.round(jobs * 100) / 100 === jobs ? jobs.toFixed(2) : undefined;
}

/** Identifiers and territory codes: every broken rule, named by field (also run on imported rows, src/imports). */
export function checkStructure(body: CreateStructureBody): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  const { siret, rna } = body;
  if (siret == null && rna == null) fail('siret', 'a SIRET or, for an association without one, an RNA number is required');
  if (siret != null && !isValidSiret(siret)) fail('siret', 'is not a valid SIRET (14 digits with a valid check digit)');
  if (rna != null && !isValidRna(rna)) fail('rna', 'is not an RNA number (W and 9 digits)');
  if (rna != null && siret == null && body.legal_form !== 'association') fail('rna', 'only associations may be identified by an RNA number alone');
  if (!isValidNafCode(nafWithDot(body.naf_code))) fail('naf_code', 'is not a NAF code such as "88.99B"');
  if (jobsAsText(body.jobs_fte) === undefined) fail('jobs_fte', 'must have at most 2 decimals');
  if (!isValidCommuneCode(body.commune_code)) fail('commune_code', 'is not an INSEE commune code');
  if (!isValidDepartmentCode(body.department_code)) fail('department_code', 'is not a French department code');
  if (!isValidRegionCode(body.region_code)) fail('region_code', 'is not an INSEE region code');
  if (isValidCommuneCode(body.commune_code) && isValidDepartmentCode(body.department_code) && departmentOfCommune(body.commune_code) !== body.department_code) {
    fail('commune_code', `is not in department ${body.department_code}`);
  }
  return errors;
}

export async function createStructure(db: Db, context: RequestContext, body: CreateStructureBody, outbound: OutboundPolicy = STRICT_OUTBOUND, idempotency?: IdempotentRequest) {
  await findVisibleFund(db, context.actor, body.fund_id, 'fund_id');
  assertCanWrite(context.actor);
  const broken = [...checkStructure(body), ...webhookUrlErrors(body.webhook_url, outbound)];
  if (broken.length > 0) throw new DomainError('rule_violation', 'The structure breaks a business rule.', broken);
  const duplicate = () => new DomainError('conflict', 'A structure with this SIRET already exists in this fund.', [{ field: 'siret', message: 'is already registered in this fund' }]);
  return transactOnce(db, idempotency, async (trx) => {
    const structure = await insertStructure(trx, {
      id: uuidv7(),
      fund_id: body.fund_id,
      legal_name: body.legal_name,
      siret: body.siret ?? null,
      rna: body.rna ?? null,
      legal_form: body.legal_form,
      esus: body.esus ?? false,
      naf_code: nafWithDot(body.naf_code),
      commune_code: body.commune_code,
      department_code: body.department_code,
      region_code: body.region_code,
      jobs_fte: jobsAsText(body.jobs_fte)!,
      contact_email: body.contact_email,
      webhook_url: body.webhook_url ?? null,
    });
    await recordAuditEvent(trx, context, { fundId: structure.fund_id, action: 'structure.created', entityType: 'structure', entityId: structure.id, state: structureView(structure) });
    return structure;
  }, (structure) => ({ status: 201, body: structureView(structure) })).catch((error: unknown) => {
    // The unique index decides, also between two requests racing with the same SIRET.
    throw isUniqueViolation(error, 'structures_fund_id_siret_key') ? duplicate() : error;
  });
}
