/**
 * The bad-input sweep's generators (issue 11): every operation of openapi.yaml, and for each of its
 * parameters and body properties the bad values that the property's schema calls for, one mutation
 * at a time. A mutation changes one thing of a valid baseline request (test/integration/bad-input-sweep.test.ts
 * holds the baselines); `contractValid` says whether the mutated request still keeps the contract,
 * as the server's own validator would judge it, so that the test can tell a 2xx that was bound to
 * happen from one that let a broken request through.
 */
import type Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv/dist/2020';
import { contractAjv, openApiDocument, SPEC_ID } from './contract';

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
}
export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required?: boolean;
  readonly schema: Schema;
}
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export interface Operation {
  readonly method: Method;
  readonly path: string;
  /** "POST /v1/loans", the operation's name in the report. */
  readonly name: string;
  readonly parameters: readonly Parameter[];
  readonly body?: { readonly schema: Schema; readonly required: boolean };
  readonly isPublic: boolean;
}

type Node = Record<string, unknown>;
const spec = openApiDocument as Node & { paths: Record<string, Record<string, Node>> };

const lookup = (ref: string): Node =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .reduce(
      (node: Node, key) => node[key.replaceAll('~1', '/').replaceAll('~0', '~')] as Node,
      spec,
    );

/** The node a `$ref` names, its sibling keywords (a description) kept; nested references stay. */
export function deref<T extends object>(node: T): T {
  let current = node as Node;
  while (typeof current.$ref === 'string') {
    const { $ref, ...siblings } = current;
    current = { ...lookup($ref as string), ...siblings };
  }
  return current as T;
}

/** Every operation of openapi.yaml, in the document's order. */
export function operations(): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as const)
      .filter((method) => item[method])
      .map((method): Operation => {
        const op = item[method] as Node & {
          parameters?: Node[];
          requestBody?: Node;
          security?: unknown[];
        };
        const parameters = (op.parameters ?? [])
          .map((p) => deref(p) as unknown as Parameter)
          .map((p) => ({ ...p, schema: deref(p.schema) }));
        const body =
          op.requestBody &&
          (deref(op.requestBody) as {
            required?: boolean;
            content: Record<string, { schema: Schema }>;
          });
        const schema = body?.content['application/json']?.schema;
        return {
          method,
          path,
          name: `${method.toUpperCase()} ${path}`,
          parameters,
          body: schema && { schema: deref(schema), required: body.required === true },
          isPublic: Array.isArray(op.security) && op.security.length === 0,
        };
      }),
  );
}

// ---------------------------------------------------------------- the contract, judged as the server does

const ajv = contractAjv({ allErrors: false });
// Query, path and header values arrive as text: the server's validator coerces them to the schema's type.
const coercing = contractAjv({ coerceTypes: true });

const compiled = new Map<string, ValidateFunction>();
/** A schema with its "#/components/…" references pointed at the registered document. */
function validatorFor(instance: Ajv2020, schema: Schema, cacheKey: string): ValidateFunction {
  let validate = compiled.get(cacheKey);
  if (!validate) {
    const anchored = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/', `"${SPEC_ID}#/`),
    ) as Schema;
    compiled.set(cacheKey, (validate = instance.compile(anchored)));
  }
  return validate;
}

/** A request as the sweep builds it: path values and query values as text, the body as JSON or raw text. */
export interface RequestShape {
  readonly params: Readonly<Record<string, string>>;
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string>>;
  /** undefined: no body at all. */
  readonly body?: { readonly json: unknown } | { readonly text: string };
  /** Sent with the body; undefined: no Content-Type header. */
  readonly contentType?: string;
}

/**
 * Whether the request keeps the contract of openapi.yaml: true, false, or undefined when that cannot
 * be said (a body sent to an operation that takes none; an empty path segment, which routes elsewhere).
 */
export function contractValid(op: Operation, shape: RequestShape): boolean | undefined {
  // The probes and the contract itself (no parameter, no body) answer before any validation, by design.
  if (op.parameters.length === 0 && !op.body) return undefined;
  for (const parameter of op.parameters) {
    const where =
      parameter.in === 'path'
        ? [shape.params[parameter.name]]
        : parameter.in === 'query'
          ? shape.query.filter(([name]) => name === parameter.name).map(([, value]) => value)
          : [shape.headers[parameter.name]];
    const present = where.filter((value) => value !== undefined);
    if (present.length === 0) {
      if (parameter.required) return false;
      continue;
    }
    if (parameter.in === 'path' && present[0] === '') return undefined;
    if (present.length > 1) return false;
    const validate = validatorFor(
      coercing,
      { type: 'object', properties: { value: parameter.schema } },
      `${op.name} ${parameter.in} ${parameter.name}`,
    );
    if (!validate({ value: present[0] })) return false;
  }
  if (shape.query.some(([name]) => !op.parameters.some((p) => p.in === 'query' && p.name === name)))
    return false;
  if (!op.body) return shape.body === undefined ? true : undefined;
  if (shape.body === undefined || shape.contentType === undefined) return !op.body.required;
  if (!/^application\/json\b/.test(shape.contentType)) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText(shape.body));
  } catch {
    return false;
  }
  return validatorFor(ajv, op.body.schema, `${op.name} body`)(parsed);
}

// ---------------------------------------------------------------- rendering

/** A JSON number (or any fragment) written as is: 2^53 + 1 does not survive a JS number. */
export class RawJson {
  constructor(readonly text: string) {}
}

export function bodyText(body: { json: unknown } | { text: string }): string {
  if ('text' in body) return body.text;
  const raws: string[] = [];
  const text = JSON.stringify(body.json, (_key, value: unknown) =>
    value instanceof RawJson ? `\u0001raw${raws.push(value.text) - 1}` : value,
  );
  return text.replace(/"\\u0001raw(\d+)"/g, (_all, index: string) => raws[Number(index)]!);
}

/** encodeURIComponent, except that a lone surrogate is sent as its (invalid) UTF-8 bytes instead of throwing. */
export function encodeComponent(value: string): string {
  let out = '';
  for (const char of value) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else out += encodeURIComponent(char);
  }
  return out;
}

export function renderUrl(op: Operation, shape: RequestShape): string {
  const path = op.path.replace(/\{(\w+)\}/g, (_all, name: string) =>
    encodeComponent(shape.params[name] ?? ''),
  );
  const query = shape.query
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeComponent(value)}`)
    .join('&');
  return query ? `${path}?${query}` : path;
}

// ---------------------------------------------------------------- the bad values

type Labelled = readonly [label: string, value: unknown];

export const STRINGS: readonly Labelled[] = [
  ['empty', ''],
  ['10000 chars', 'x'.repeat(10_000)],
  ['emoji', 'Prêt 💶🏦👩🏽‍🌾'],
  ['right-to-left', 'صندوق \u202Eevil\u202C'],
  ['combining marks', 'Z\u0336\u0321a\u0337\u0317l\u0335g\u0338o'],
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'a\ud800b'],
  ["' OR 1=1 --", "' OR 1=1 --"],
  ['"; DROP TABLE', '"; DROP TABLE loans; --'],
  ['backslash', '\\'],
  ['%00', '%00'],
  ['path traversal', '../../etc/passwd'],
];
export const NUMBERS: readonly Labelled[] = [
  ['-1', -1],
  ['0', 0],
  ['2^31', 2 ** 31],
  ['2^53+1', new RawJson('9007199254740993')],
  ['1e308', 1e308],
  ['-1e308', -1e308],
  ['1.5', 1.5],
  ['"1"', '1'],
  ['null', null],
];
export const AMOUNTS: readonly Labelled[] = [
  '999999999999.99',
  '9999999999999.99',
  '0.001',
  '-1',
  '1e3',
  ' 1',
  '1,5',
  'NaN',
].map((v) => [v, v]);
export const DATES: readonly Labelled[] = [
  '0000-01-01',
  '0001-01-01',
  '1899-12-31',
  '9999-12-31',
  '10000-01-01',
  '2025-02-30',
  '2025-13-01',
  '2025-01-01T00:00:00Z',
].map((v) => [v, v]);
export const DATE_TIMES: readonly Labelled[] = [
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2025-01-01',
].map((v) => [v, v]);
export const CURSORS: readonly Labelled[] = [
  ['garbage base64', '!!!!'],
  ['base64 of "foobar"', 'Zm9vYmFy'],
  ['base64 padding', '////=='],
  ['huge number, base64', Buffer.from('9'.repeat(40)).toString('base64url')],
  ['-1, base64', Buffer.from('-1').toString('base64url')],
  ['a uuid, base64', Buffer.from('00000000-0000-0000-0000-000000000000').toString('base64url')],
];
export const LIMITS: readonly Labelled[] = [
  ['0', 0],
  ['-1', -1],
  ['1000000', 1_000_000],
];
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export type Kind =
  | 'uuid'
  | 'date'
  | 'date-time'
  | 'amount'
  | 'rate'
  | 'decimal'
  | 'enum'
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'array'
  | 'object'
  | 'limit'
  | 'cursor';

const AMOUNT_PATTERN = (lookup('#/components/schemas/Amount') as Schema).pattern;
const RATE_PATTERN = (lookup('#/components/schemas/Rate') as Schema).pattern;

const typesOf = (schema: Schema): string[] =>
  Array.isArray(schema.type)
    ? schema.type
    : schema.type
      ? [schema.type]
      : (schema.enum ?? []).map((v) => (v === null ? 'null' : typeof v));

export function kindOf(schema: Schema, name: string): Kind {
  if (name === 'limit') return 'limit';
  if (name === 'cursor') return 'cursor';
  const types = typesOf(schema).filter((t) => t !== 'null');
  if (schema.format === 'uuid' || schema.pattern?.startsWith('^[0-9a-f]{8}-')) return 'uuid';
  if (schema.format === 'date' || schema.format === 'date-time') return schema.format;
  if (schema.pattern === AMOUNT_PATTERN) return 'amount';
  if (schema.pattern === RATE_PATTERN) return 'rate';
  if (types.includes('number') && types.includes('string')) return 'decimal';
  if (schema.enum) return 'enum';
  return (types[0] ?? 'string') as Kind;
}

/** Values of every JSON type the schema does not allow: an object where a string is expected, and so on. */
function wrongTypes(schema: Schema): Labelled[] {
  const allowed = typesOf(schema);
  const samples: Record<string, unknown> = {
    string: 'x',
    number: 123,
    boolean: true,
    object: { a: 1 },
    array: ['x'],
    null: null,
  };
  return Object.entries(samples)
    .filter(
      ([type]) => !allowed.includes(type) && !(type === 'number' && allowed.includes('integer')),
    )
    .map(([type, value]) => [`a ${type}`, value]);
}

export interface ValueContext {
  /** The id of the same kind of resource in another fund, for a field or parameter of this name. */
  readonly otherFund: (name: string) => string | undefined;
}

/** A value to put in place of the baseline's: fixed, or computed from it (an uppercase copy of an id). */
export type Replacement =
  { readonly value: unknown } | { readonly from: (current: unknown) => unknown };

export interface ValueMutation {
  readonly kind: string;
  readonly replacement: Replacement;
  /** Send it with the manager key of fund A only, and expect 404: the id is of fund B. */
  readonly otherFund?: true;
}

/** The bad values for a field or parameter of this schema and name, labelled "kind: label". */
export function badValues(
  schema: Schema,
  name: string,
  context: ValueContext,
  inBody: boolean,
  named = true,
): ValueMutation[] {
  const kind = kindOf(schema, name);
  const fixed = (set: readonly Labelled[], prefix: string = kind) =>
    set.map(([label, value]): ValueMutation => ({
      kind: `${prefix}: ${label}`,
      replacement: { value },
    }));
  const out: ValueMutation[] = [];
  const stringLike = !['integer', 'number', 'boolean', 'array', 'object', 'limit'].includes(kind);
  if (stringLike) out.push(...fixed(STRINGS, 'string'));
  if (kind === 'uuid') {
    out.push({ kind: 'uuid: nil', replacement: { value: NIL_UUID } });
    out.push({
      kind: 'uuid: uppercase',
      replacement: {
        from: (current) =>
          String(current ?? NIL_UUID)
            .toUpperCase()
            .replace(/^0{8}/, 'ABCDEF00'),
      },
    });
    out.push({ kind: 'uuid: not-a-uuid', replacement: { value: 'not-a-uuid' } });
    // Only in place of an id the request names: added beside other fields, it may not even be read.
    const other = named ? context.otherFund(name) : undefined;
    if (other)
      out.push({ kind: 'uuid: of another fund', replacement: { value: other }, otherFund: true });
  }
  if (kind === 'date') out.push(...fixed(DATES));
  if (kind === 'date-time') out.push(...fixed(DATE_TIMES));
  if (kind === 'amount' || kind === 'rate' || kind === 'decimal')
    out.push(...fixed(AMOUNTS, 'amount'));
  if (kind === 'cursor') out.push(...fixed(CURSORS));
  if (kind === 'limit') out.push(...fixed(LIMITS));
  if (['integer', 'number', 'decimal', 'limit'].includes(kind))
    out.push(...fixed(NUMBERS, 'number'));
  if (kind === 'array') {
    out.push({ kind: 'array: empty', replacement: { value: [] } });
    out.push({
      kind: 'array: 10000 items',
      replacement: {
        from: (current) =>
          Array.from({ length: 10_000 }, () => (Array.isArray(current) ? current[0] : 1) ?? 1),
      },
    });
    const items = deref(schema.items ?? {});
    for (const [label, value] of wrongTypes(items))
      out.push({
        kind: `array: items of the wrong type (${label})`,
        replacement: { value: [value] },
      });
  }
  if (inBody) out.push(...fixed(wrongTypes(schema), 'wrong type'));
  return dedupe(out);
}

/** One mutation per distinct value: the number set and the wrong types both hold null, say. */
function dedupe(mutations: ValueMutation[]): ValueMutation[] {
  const seen = new Set<string>();
  return mutations.filter((m) => {
    if (!('value' in m.replacement)) return true;
    const key = bodyText({ json: m.replacement.value });
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------- whole bodies

const DEPTH = 5_000;
/** 10,000 short property names (base 36): the body stays under the 100 kB limit, so the validator sees it. */
const manyProperties = (base: unknown) => {
  const extra = Array.from({ length: 10_000 }, (_v, i) => `"${i.toString(36)}":0`).join(',');
  const text = bodyText({
    json: base && typeof base === 'object' && !Array.isArray(base) ? base : {},
  });
  return text === '{}' ? `{${extra}}` : `${text.slice(0, -1)},${extra}}`;
};

/** Whole bodies that no operation accepts, as text: labelled, and built from the baseline's body when they wrap it. */
export function wholeBodies(baseline: unknown): [string, string][] {
  const base = baseline === undefined ? '{}' : bodyText({ json: baseline });
  return [
    [`[[[…]]] nested ${DEPTH} deep`, '['.repeat(DEPTH) + ']'.repeat(DEPTH)],
    [`{"a":{"a":…}} nested ${DEPTH} deep`, '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH)],
    ['10000 unknown properties', manyProperties(baseline)],
    ['malformed JSON', base.slice(0, Math.max(1, base.length - 1))],
    ['JSON null', 'null'],
    ['a top-level array', `[${base}]`],
    ['a JSON string', '"x"'],
  ];
}

// ---------------------------------------------------------------- mutations of a request

export interface Mutation {
  /** What it changes: "body.principal", "query.limit", "path.loan_id", "header.Idempotency-Key", "body", "query". */
  readonly where: string;
  /** The kind of bad value, for grouping: "date: 0000-01-01", "uuid: nil", "body: malformed JSON". */
  readonly kind: string;
  readonly apply: (shape: RequestShape) => RequestShape;
  /** An id of fund B, sent with fund A's manager key: 404 expected (for a list filter, an empty page will do). */
  readonly otherFund?: 'not-found' | 'not-found-or-empty';
  /**
   * Who else sends it besides the admin, when it is not a sample's turn: fund A's manager, no key at
   * all (the body is read before the key is checked). Unset: the sample decides.
   */
  readonly alsoSentBy?: readonly ('manager' | 'none')[];
}

type Segment = string | number;

function setAt(
  root: unknown,
  path: readonly Segment[],
  replacement: Replacement | 'remove',
): unknown {
  const [head, ...rest] = path;
  if (head === undefined)
    return replacement === 'remove'
      ? undefined
      : 'value' in replacement
        ? replacement.value
        : replacement.from(root);
  const copy = Array.isArray(root)
    ? [...root]
    : root && typeof root === 'object'
      ? { ...root }
      : typeof head === 'number'
        ? []
        : {};
  const container = copy as Record<Segment, unknown>;
  if (rest.length === 0 && replacement === 'remove') delete container[head];
  else container[head] = setAt(container[head], rest, replacement);
  return container;
}

const jsonOf = (shape: RequestShape): unknown =>
  shape.body && 'json' in shape.body ? shape.body.json : undefined;

/** Every property of the body, recursively (array items through their first item): its bad values, its absence when required, and an unknown sibling. */
export function bodyMutations(schema: Schema, sample: unknown, context: ValueContext): Mutation[] {
  const out: Mutation[] = [];
  const change = (
    path: readonly Segment[],
    kind: string,
    replacement: Replacement | 'remove',
    otherFund?: true,
  ): Mutation => ({
    where: ['body', ...path].join('.'),
    kind,
    apply: (shape) => ({ ...shape, body: { json: setAt(jsonOf(shape), path, replacement) } }),
    otherFund: otherFund && 'not-found',
  });
  const walkObject = (object: Schema, value: unknown, path: readonly Segment[]) => {
    out.push(change([...path, 'unknown_property'], 'unknown property', { value: 'x' }));
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      if (object.required?.includes(name))
        out.push(change([...path, name], 'required property missing', 'remove'));
      walkValue(
        deref(property),
        (value as Record<string, unknown> | undefined)?.[name],
        [...path, name],
        name,
      );
    }
  };
  const walkValue = (property: Schema, value: unknown, path: readonly Segment[], name: string) => {
    for (const bad of badValues(property, name, context, true, value !== undefined))
      out.push(change(path, bad.kind, bad.replacement, bad.otherFund));
    const kind = kindOf(property, name);
    if (kind === 'array' && property.items)
      walkValue(
        deref(property.items),
        Array.isArray(value) ? value[0] : undefined,
        [...path, 0],
        name,
      );
    if (kind === 'object') walkObject(property, value, path);
  };
  walkObject(schema, sample, []);
  return out;
}

/** Text as a URL or a header carries it. */
function asText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Node refuses to send control characters in a header; other text goes as its UTF-8 bytes, which the server reads as Latin-1. */
// eslint-disable-next-line no-control-regex -- the characters Node refuses are the point
const UNSENDABLE_IN_HEADER = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Every parameter: its bad values, its absence when required; a query parameter also given twice. */
export function parameterMutations(
  parameters: readonly Parameter[],
  context: ValueContext,
): Mutation[] {
  const out: Mutation[] = [];
  for (const parameter of parameters) {
    const where = `${parameter.in}.${parameter.name}`;
    const set = (
      kind: string,
      value: ((current: string | undefined) => string) | undefined,
      otherFund?: Mutation['otherFund'],
    ): Mutation => ({
      where,
      kind,
      otherFund,
      apply: (shape) => {
        if (parameter.in === 'path')
          return {
            ...shape,
            params: { ...shape.params, [parameter.name]: value!(shape.params[parameter.name]) },
          };
        if (parameter.in === 'header') {
          const headers: Record<string, string> = { ...shape.headers };
          if (value) headers[parameter.name] = value(headers[parameter.name]) as string;
          else delete headers[parameter.name];
          return { ...shape, headers };
        }
        const current = shape.query.find(([name]) => name === parameter.name)?.[1];
        const others = shape.query.filter(([name]) => name !== parameter.name);
        return { ...shape, query: value ? [...others, [parameter.name, value(current)]] : others };
      },
    });
    if (parameter.required && parameter.in !== 'path')
      out.push(set('required parameter missing', undefined));
    for (const bad of badValues(parameter.schema, parameter.name, context, false)) {
      const text = (current: string | undefined) =>
        asText('value' in bad.replacement ? bad.replacement.value : bad.replacement.from(current));
      if (parameter.in === 'header') {
        const sample = text(undefined);
        if (UNSENDABLE_IN_HEADER.test(sample)) continue;
        out.push(set(bad.kind, () => Buffer.from(sample, 'utf8').toString('latin1')));
        continue;
      }
      const filter =
        parameter.in === 'query' && parameter.name !== 'fund_id'
          ? 'not-found-or-empty'
          : 'not-found';
      out.push(set(bad.kind, text, bad.otherFund && filter));
    }
    if (parameter.in === 'query') {
      out.push({
        where,
        kind: 'query: given twice',
        apply: (shape) => {
          const value = shape.query.find(([name]) => name === parameter.name)?.[1] ?? '1';
          return {
            ...shape,
            query: [...shape.query, [parameter.name, value], [parameter.name, value]],
          };
        },
      });
    }
  }
  return out;
}

/**
 * An unknown query parameter, and every whole body with `Content-Type: application/json` and, where
 * the operation takes a body, without it too (elsewhere a body without a type is not even read): the
 * deep and the malformed ones also by fund A's manager and with no key; 10,000 properties, which
 * take the server a good half second to refuse, by the admin alone.
 */
export function requestMutations(op: Operation, sampleBody: unknown): Mutation[] {
  const unknownQuery: Mutation = {
    where: 'query',
    kind: 'unknown query parameter',
    apply: (shape) => ({ ...shape, query: [...shape.query, ['unknown_parameter', '1']] }),
  };
  const contentTypes = op.body ? [undefined, 'application/json'] : ['application/json'];
  const bodies = wholeBodies(sampleBody).flatMap(([label, text]) =>
    contentTypes.map((contentType): Mutation => ({
      where: 'body',
      kind: `body: ${label}${contentType ? '' : ', no Content-Type'}`,
      alsoSentBy: /nested|malformed/.test(label)
        ? ['manager', 'none']
        : label.startsWith('10000') || !contentType
          ? []
          : ['manager'],
      apply: (shape) => ({ ...shape, body: { text }, contentType }),
    })),
  );
  return [unknownQuery, ...bodies];
}
