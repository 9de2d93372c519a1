import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { OPENAPI_PATH } from '../../src/http/openapi';
import { testApp } from '../support/app';
import { closeTestDb } from '../support/db';
import { contractAjv, openApiDocument, SPEC_ID } from '../support/contract';

/**
 * openapi.yaml is what the partners read (Swagger UI): every operation says what it does, and its
 * examples are answers the service really gives, so each one must at least hold against its schema.
 */

type Node = Record<string, unknown>;
interface Example {
  readonly summary?: string;
  readonly value: unknown;
}
interface MediaType {
  readonly schema?: Node;
  readonly examples?: Record<string, Example>;
  readonly example?: unknown;
}
interface Operation {
  readonly summary?: string;
  readonly description?: string;
  readonly requestBody?: { content: Record<string, MediaType> };
  readonly responses: Record<string, Node>;
}

const spec = openApiDocument as { paths: Record<string, Record<string, Operation>> };
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.has(method))
    .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
);

const resolve = (node: Node): Node =>
  typeof node.$ref === 'string'
    ? node.$ref
        .replace(/^#\//, '')
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
        .reduce((at: Node, key) => at[key] as Node, openApiDocument as Node)
    : node;
const segment = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** Every example of the document (media types and parameters, in paths, webhooks and components), with the schema it must hold against. */
function allExamples(): { where: string; schemaPointer: string; value: unknown }[] {
  const found: { where: string; schemaPointer: string; value: unknown }[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (Array.isArray(node)) return node.forEach((item, i) => walk(item, [...path, String(i)]));
    if (node === null || typeof node !== 'object') return;
    const object = node as Node;
    const isMediaOrParameter = 'schema' in object && ('examples' in object || 'example' in object);
    const underSchema = path.includes('schemas') || path.at(-1) === 'schema';
    if (isMediaOrParameter && !underSchema) {
      const schemaPointer = [...path, 'schema'].map(segment).join('/');
      const where = path.join(' › ');
      if ('example' in object)
        found.push({ where: `${where} › example`, schemaPointer, value: object.example });
      for (const [name, example] of Object.entries(
        (object.examples ?? {}) as Record<string, Node>,
      )) {
        found.push({
          where: `${where} › examples › ${name}`,
          schemaPointer,
          value: resolve(example).value,
        });
      }
    }
    for (const [key, value] of Object.entries(object))
      if (key !== 'examples' && key !== 'example') walk(value, [...path, key]);
  };
  walk(openApiDocument, []);
  return found;
}

const ajv = contractAjv({ allErrors: true });
/** Why the value does not hold against the schema at the pointer (empty when it does). */
function mismatches(schemaPointer: string, value: unknown): string[] {
  const validate =
    ajv.getSchema(`${SPEC_ID}#/${schemaPointer}`) ??
    ajv.compile({ $ref: `${SPEC_ID}#/${schemaPointer}` });
  return validate(value)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

describe('every operation of openapi.yaml', () => {
  it('is found (the document has its ~50 operations)', () => {
    expect(operations.length).toBeGreaterThanOrEqual(50);
  });

  it.each(operations)('$name has a summary and a description', ({ op }) => {
    expect(op.summary?.trim()).toBeTruthy();
    expect(op.description?.trim()).toBeTruthy();
  });

  it.each(operations.filter(({ op }) => op.requestBody))(
    '$name has a request example',
    ({ op }) => {
      const examples = Object.values(op.requestBody!.content).flatMap((media) =>
        Object.keys(media.examples ?? {}),
      );
      expect(examples.length).toBeGreaterThanOrEqual(1);
    },
  );

  // A 204 has no body to show.
  it.each(
    operations.filter(({ op }) =>
      Object.entries(op.responses).some(
        ([status, r]) => status.startsWith('2') && resolve(r).content,
      ),
    ),
  )('$name has an example on a 2xx response', ({ op }) => {
    const examples = Object.entries(op.responses)
      .filter(([status]) => status.startsWith('2'))
      .flatMap(([, r]) => Object.values((resolve(r).content ?? {}) as Record<string, MediaType>))
      .flatMap((media) => Object.keys(media.examples ?? {}));
    expect(examples.length).toBeGreaterThanOrEqual(1);
  });
});

describe('every example of openapi.yaml', () => {
  const examples = allExamples();

  it('is found (requests, responses and problems)', () => {
    expect(examples.length).toBeGreaterThanOrEqual(100);
    expect(examples.some((e) => e.where.startsWith('components › responses'))).toBe(true);
    expect(examples.some((e) => e.where.startsWith('webhooks'))).toBe(true);
  });

  it.each(examples)('$where holds against its schema', ({ schemaPointer, value }) => {
    expect(mismatches(schemaPointer, value)).toEqual([]);
  });

  it('a broken example would not hold (the check can fail)', () => {
    const preview = examples.find(
      (e) =>
        e.where ===
        'paths › /v1/schedules/preview › post › responses › 200 › content › application/json › examples › annuity',
    )!;
    const broken = { ...(preview.value as Node), total_payable: 10661.86 }; // money as a number
    expect(mismatches(preview.schemaPointer, broken)).not.toEqual([]);
  });
});

describe('the preview examples', () => {
  let app: Express;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(closeTestDb);

  const preview = spec.paths['/v1/schedules/preview']!.post!;
  const requests = preview.requestBody!.content['application/json']!.examples!;
  const answers = (preview.responses['200'] as { content: Record<string, MediaType> }).content[
    'application/json'
  ]!.examples!;

  it('pair each request example with the response example of the same name', () => {
    expect(Object.keys(answers).sort()).toEqual(Object.keys(requests).sort());
  });

  it.each(Object.keys(requests))(
    '%s: the engine answers exactly the response example',
    async (name) => {
      const res = await request(app)
        .post('/v1/schedules/preview')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(requests[name]!.value));
      expect(res.status).toBe(200);
      expect(res.body).toEqual(answers[name]!.value);
    },
  );
});

describe('the documents openapi.yaml sends readers to', () => {
  const text = readFileSync(OPENAPI_PATH, 'utf8');
  const IN_THE_REPOSITORY = new Set([
    'docs/rules/README.md',
    'docs/rules/schedules.md',
    'docs/rules/repayments.md',
    'docs/rules/restructuring.md',
    'docs/rules/ledger.md',
    'docs/rules/reminders.md',
    'docs/rules/reports.md',
    'docs/audit.md',
    'docs/webhooks.md',
    'docs/imports.md',
    'docs/exports.md',
    'docs/territories.md',
    'docs/evaluation.md', // issue 15, territories and evaluation (h-terr)
    'docs/funding.md', // issue 15 items 3-4
    'docs/state-aid.md', // state aid (issue 15)
  ]);

  it('are none outside the repository', () => {
    expect(text).not.toMatch(/DOMAIN\.md|shared\//);
  });

  it('are files of the repository, named by their paths', () => {
    const named = new Set(text.match(/[\w./-]+\.md\b/g));
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((path) => !IN_THE_REPOSITORY.has(path))).toEqual([]);
    expect([...named].filter((path) => !existsSync(join(dirname(OPENAPI_PATH), path)))).toEqual([]);
  });
});
