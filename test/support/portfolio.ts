import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import request, { type Response, type Test } from 'supertest';
import YAML from 'yaml';
import { OPENAPI_PATH } from '../../src/http/openapi';
import { ADMIN_KEY } from './app';
import { expectContract } from './contract';
import { LA_POSTE_SIREN, withLuhnCheckDigit } from '../../src/domain/structure-identifiers';

export const adminAuth = { Authorization: `Bearer ${ADMIN_KEY}` } as const;

export interface Fund {
  id: string;
  name: string;
  region_code: string;
  department_codes: string[];
  currency: string;
  reminder_days_before: number[];
  reminder_days_after: number[];
  webhook_url: string | null;
  created_at: string;
}
export interface Product {
  id: string;
  fund_id: string;
  principal_min: string;
  principal_max: string;
  annual_rate_percent_min: string;
  annual_rate_percent_max: string;
  guarantee_coverage_percent: string;
}
export interface Structure {
  id: string;
  fund_id: string;
  siret: string | null;
  rna: string | null;
  jobs_fte: number;
}
export interface CreatedKey {
  id: string;
  secret: string;
}
export interface AuditEvent {
  id: string;
  fund_id: string;
  seq: number;
  occurred_at: string;
  actor_key_id: string;
  action: string;
  entity_type: string;
  entity_id: string;
  request_id: string | null;
  state: unknown;
  prev_hash: string;
  hash: string;
}

// The documented path templates, so that each call is checked against its own operation.
const TEMPLATES = Object.keys(
  (YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, unknown> }).paths,
);

/** "/v1/funds/0190…?x=1" → "/v1/funds/{fund_id}"; literal segments (and suffixes, as in "{report_id}.csv") win over parameters. */
export function pathTemplateOf(path: string): string {
  const segments = path.split('?')[0]!.split('/');
  const fitsSegment = (part: string, segment: string) => {
    const suffix = /^\{\w+\}(.*)$/.exec(part)?.[1];
    return (
      part === segment ||
      (suffix !== undefined && segment.length > suffix.length && segment.endsWith(suffix))
    );
  };
  const fits = (template: string) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length && parts.every((part, i) => fitsSegment(part, segments[i]!))
    );
  };
  const parameters = (template: string) => template.match(/\{/g)?.length ?? 0;
  const candidates = TEMPLATES.filter(fits).sort(
    (a, b) => parameters(a) - parameters(b) || b.length - a.length,
  );
  if (!candidates[0]) throw new Error(`${path} matches no path of openapi.yaml`);
  return candidates[0];
}

async function send(
  call: Test,
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  if (key !== undefined) call.set('Authorization', `Bearer ${key}`);
  for (const [name, value] of Object.entries(headers)) call.set(name, value);
  const res =
    body === undefined
      ? await call
      : await call.set('Content-Type', 'application/json').send(JSON.stringify(body));
  expectContract(res, method, pathTemplateOf(path));
  return res;
}

/** Calls the API as one key (none when `key` is undefined); every response is checked against openapi.yaml. */
export function as(app: Express, key: string | undefined) {
  return {
    get: (path: string) => send(request(app).get(path), 'get', path, key),
    post: (path: string, body: unknown, headers?: Record<string, string>) =>
      send(request(app).post(path), 'post', path, key, body, headers),
    patch: (path: string, body: unknown) =>
      send(request(app).patch(path), 'patch', path, key, body),
    put: (path: string, body: unknown) => send(request(app).put(path), 'put', path, key, body),
    delete: (path: string) => send(request(app).delete(path), 'delete', path, key),
  };
}

/** A SIRET nobody else in this run will use: 13 random digits and the Luhn check digit. */
export function randomSiret(): string {
  let body: string;
  do body = Array.from({ length: 13 }, () => String(randomInt(10))).join('');
  while (body.startsWith(LA_POSTE_SIREN)); // La Poste's SIREN follows another rule
  return withLuhnCheckDigit(body);
}

/** The same SIRET with another check digit: always Luhn-invalid. */
export const breakCheckDigit = (siret: string) =>
  siret.slice(0, 13) + String((Number(siret[13]) + 1) % 10);

export const unique = (prefix: string) => `${prefix} ${randomUUID().slice(0, 8)}`;

function expectCreated(res: Response, what: string): void {
  if (res.status !== 201)
    throw new Error(`creating ${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

export async function createFund(
  app: Express,
  overrides: Record<string, unknown> = {},
): Promise<Fund> {
  const res = await as(app, ADMIN_KEY).post('/v1/funds', {
    name: unique('Fonds solidaire'),
    region_code: '84',
    department_codes: ['69', '01'],
    ...overrides,
  });
  expectCreated(res, 'a fund');
  return res.body as Fund;
}

export const productBody = (fundId: string, overrides: Record<string, unknown> = {}) => ({
  fund_id: fundId,
  name: unique('Prêt de relance'),
  kind: 'recovery',
  principal_min: '5000.00',
  principal_max: '100000.00',
  annual_rate_percent_min: '0',
  annual_rate_percent_max: '3.5',
  term_periods_min: 12,
  term_periods_max: 84,
  deferral_periods_max: 24,
  methods: ['annuity', 'linear'],
  periodicities: ['monthly', 'quarterly'],
  ...overrides,
});

export async function createProduct(
  app: Express,
  fundId: string,
  key: string,
  overrides: Record<string, unknown> = {},
): Promise<Product> {
  const res = await as(app, key).post('/v1/products', productBody(fundId, overrides));
  expectCreated(res, 'a product');
  return res.body as Product;
}

export const structureBody = (fundId: string, overrides: Record<string, unknown> = {}) => ({
  fund_id: fundId,
  legal_name: unique('Association Les Jardins'),
  siret: randomSiret(),
  legal_form: 'association',
  esus: true,
  naf_code: '88.99B',
  commune_code: '69123',
  department_code: '69',
  region_code: '84',
  jobs_fte: '12.5',
  contact_email: 'tresorerie@example.org',
  ...overrides,
});

export async function createStructure(
  app: Express,
  fundId: string,
  key: string,
  overrides: Record<string, unknown> = {},
): Promise<Structure> {
  const res = await as(app, key).post('/v1/structures', structureBody(fundId, overrides));
  expectCreated(res, 'a structure');
  return res.body as Structure;
}

export async function createKey(
  app: Express,
  body: Record<string, unknown>,
  key: string = ADMIN_KEY,
): Promise<CreatedKey> {
  const res = await as(app, key).post('/v1/api-keys', { label: unique('key'), ...body });
  expectCreated(res, 'an API key');
  return { id: res.body.id, secret: res.body.secret };
}

/** The usual opening of a story: a fund and the secret of its manager's key. */
export async function fundWithManager(
  app: Express,
  overrides: Record<string, unknown> = {},
): Promise<{ fund: Fund; manager: CreatedKey }> {
  const fund = await createFund(app, overrides);
  return { fund, manager: await createKey(app, { role: 'manager', fund_id: fund.id }) };
}

/** The offending fields of a problem, sorted, without repeats. */
export const fieldsOf = (res: Response): string[] =>
  [...new Set((res.body.errors ?? []).map((e: { field: string }) => e.field) as string[])].sort();
