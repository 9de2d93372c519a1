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

/** The id under which openapi.yaml is registered: "openapi.yaml#/components/…" resolves in it. */
export const SPEC_ID = 'openapi.yaml';
/** openapi.yaml, parsed once. */
export const openApiDocument: unknown = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8'));
const spec = openApiDocument as Spec;

/**
 * An Ajv that knows openapi.yaml as the server's validator does: formats in full (no 2023-02-30), the
 * contract's own formats (an amount and a rate as the API takes them, as their patterns say), and
 * the whole document registered once so that its "#/components/..." references resolve.
 */
export function contractAjv(options: { allErrors?: boolean; coerceTypes?: boolean }): Ajv2020 {
  const instance = new Ajv2020({ strict: false, ...options });
  addFormats(instance, { mode: 'full' });
  instance.addFormat('amount', MONEY_INPUT);
  instance.addFormat('rate', RATE_INPUT);
  instance.addSchema(spec as object, SPEC_ID, undefined, false);
  return instance;
}

const ajv = contractAjv({ allErrors: true });
const validators = new Map<string, ValidateFunction>();

/** A JSON pointer segment: "/" and "~" escaped (RFC 6901). */
const segment = (text: string) => text.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The response must be one that openapi.yaml documents for this operation: its status is listed,
 * its content type is listed, and its body validates against the schema.
 * Returns the list of mismatches (empty when it matches).
 */
export function contractMismatches(
  res: Pick<Response, 'status' | 'headers' | 'body'> & { text?: string },
  method: string,
  pathTemplate: string,
): string[] {
  const operation = spec.paths[pathTemplate]?.[method.toLowerCase()];
  if (!operation) return [`${method.toUpperCase()} ${pathTemplate} is not in openapi.yaml`];
  const status = operation.responses[String(res.status)] ? String(res.status) : 'default';
  let location = ['paths', pathTemplate, method.toLowerCase(), 'responses', status];
  let documented = operation.responses[status];
  if (!documented)
    return [`status ${res.status} is not documented for ${method.toUpperCase()} ${pathTemplate}`];
  if (documented.$ref) {
    // a shared response, "#/components/responses/Problem"
    location = documented.$ref
      .replace(/^#\//, '')
      .split('/')
      .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    documented = location.reduce(
      (node: Record<string, unknown>, key) => node[key] as Record<string, unknown>,
      spec as unknown as Record<string, unknown>,
    ) as ResponseObject;
  }
  if (!documented.content) return [];
  const mediaType = String(res.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  if (!documented.content[mediaType])
    return [`content type "${mediaType}" is not documented for status ${res.status}`];
  const pointer = [...location, 'content', mediaType, 'schema'].map(segment).join('/');
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${SPEC_ID}#/${pointer}` });
    validators.set(pointer, validate);
  }
  const payload = mediaType.endsWith('json') ? res.body : res.text; // JSON bodies parsed, others as text
  return validate(payload)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

export function expectContract(res: Response, method: string, pathTemplate: string): void {
  expect(contractMismatches(res, method, pathTemplate)).toEqual([]);
}
