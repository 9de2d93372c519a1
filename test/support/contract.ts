import { readFileSync } from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';
import YAML from 'yaml';
import { MONEY_INPUT } from '../../src/domain/money';
import { RATE_INPUT } from '../../src/domain/rate';
import { OPENAPI_PATH } from '../../src/http/openapi';

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema: object }>;
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
type Spec = { paths: Record<string, Record<string, Operation>> };

const SPEC_ID = 'openapi.yaml';
const spec = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Spec;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv, { mode: 'full' });
// openapi.yaml's own formats: an amount and a rate as the API takes them (their patterns say the same).
ajv.addFormat('amount', MONEY_INPUT);
ajv.addFormat('rate', RATE_INPUT);
// The whole document is registered once so that its "#/components/..." references resolve.
ajv.addSchema(spec, SPEC_ID, undefined, false);
const validators = new Map<string, ValidateFunction>();

/** A JSON pointer segment: "/" and "~" escaped (RFC 6901). */
const segment = (text: string) => text.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The response must be one that openapi.yaml documents for this operation: its status is listed,
 * its content type is listed, and its body validates against the schema.
 * Returns the list of mismatches (empty when it matches).
 */
export function contractMismatches(res: Pick<Response, 'status' | 'headers' | 'body'> & { text?: string }, method: string, pathTemplate: string): string[] {
  const operation = spec.paths[pathTemplate]?.[method.toLowerCase()];
  if (!operation) return [`${method.toUpperCase()} ${pathTemplate} is not in openapi.yaml`];
  const status = operation.responses[String(res.status)] ? String(res.status) : 'default';
  let location = ['paths', pathTemplate, method.toLowerCase(), 'responses', status];
  let documented = operation.responses[status];
  if (!documented) return [`status ${res.status} is not documented for ${method.toUpperCase()} ${pathTemplate}`];
  if (documented.$ref) {
    // a shared response, "#/components/responses/Problem"
    location = documented.$ref.replace(/^#\//, '').split('/').map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    documented = location.reduce((node: Record<string, unknown>, key) => node[key] as Record<string, unknown>, spec as unknown as Record<string, unknown>) as ResponseObject;
  }
  if (!documented.content) return [];
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (!documented.content[mediaType]) return [`content type "${mediaType}" is not documented for status ${res.status}`];
  const pointer = [...location, 'content', mediaType, 'schema'].map(segment).join('/');
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${SPEC_ID}#/${pointer}` });
    validators.set(pointer, validate);
  }
  const payload = mediaType.endsWith('json') ? res.body : res.text; // JSON bodies parsed, others as text
  return validate(payload) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

export function expectContract(res: Response, method: string, pathTemplate: string): void {
  expect(contractMismatches(res, method, pathTemplate)).toEqual([]);
}
