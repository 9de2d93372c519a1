import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as OpenApiValidator from 'express-openapi-validator';
import type { RequestHandler } from 'express';
import type { FieldError } from '../domain/errors';
import { MONEY_INPUT } from '../domain/money';
import { RATE_INPUT } from '../domain/rate';
import { UUID_KEY } from './pagination';

/** The contract, at the repository root: two levels up from src/http, three from dist/src/http. */
export const OPENAPI_PATH = ['../..', '../../..']
  .map((up) => path.resolve(__dirname, up, 'openapi.yaml'))
  .find((candidate) => existsSync(candidate)) ?? 'openapi.yaml';

/**
 * express-openapi-validator 5.6 compiles the path-to-regexp matcher of every route it scans on every
 * request (a fifth of a millisecond a repayment here; upstream: cdimascio/express-openapi-validator
 * pull request 1217, open). A matcher depends only on the route and the options and is stateless (no
 * `g` flag), so the validator is handed one compiled once. Express's router compiles its own at start.
 */
export function compileMatchersOnce(): { pathToRegexp: (route: unknown, options?: object) => unknown } {
  // The copy of path-to-regexp the validator itself loads.
  const load = createRequire(require.resolve('express-openapi-validator'));
  type Compile = ((route: unknown, options?: object) => unknown) & { once?: true };
  const module = load('path-to-regexp') as { pathToRegexp: Compile };
  if (module.pathToRegexp.once) return module;
  const compile = module.pathToRegexp;
  const compiled = new Map<string, unknown>();
  module.pathToRegexp = Object.assign((route: unknown, options?: { sensitive?: boolean; strict?: boolean }) => {
    // The validator passes { sensitive, strict }; any other option is compiled afresh.
    for (const option in options) if (option !== 'sensitive' && option !== 'strict') return compile(route, options);
    if (typeof route !== 'string') return compile(route, options);
    const key = `${options?.sensitive ? 'S' : 's'}${options?.strict ? 'T' : 't'}${route}`;
    let matcher = compiled.get(key);
    if (!matcher) compiled.set(key, matcher = compile(route, options));
    return matcher;
  }, { once: true as const });
  return module;
}

/** Validates every request against openapi.yaml (responses are checked by the tests). */
export function openApiValidator(): RequestHandler[] {
  compileMatchersOnce();
  return OpenApiValidator.middleware({
    apiSpec: OPENAPI_PATH,
    validateRequests: { allErrors: true, coerceTypes: false, allowUnknownQueryParameters: false },
    validateResponses: false,
    validateFormats: true,
    ajvFormats: { mode: 'full' }, // 'full' rejects impossible dates such as 2023-02-30
    validateSecurity: false,
    fileUploader: false, // no route takes multipart uploads
  }) as RequestHandler[];
}

interface ValidatorError {
  status: number;
  message: string;
  headers?: { Allow?: string };
  errors?: { path?: string; message?: string; errorCode?: string }[];
}

export function isValidatorError(error: unknown): error is ValidatorError {
  return typeof error === 'object' && error !== null && typeof (error as ValidatorError).status === 'number' && Array.isArray((error as ValidatorError).errors);
}

/** Plain words for the patterns of openapi.yaml, which are the domain's own input formats. */
const PATTERN_MESSAGES: Record<string, string> = {
  [MONEY_INPUT.source]: 'must be an amount: a decimal string with at most 2 decimals and no sign or exponent, e.g. "1250.00"',
  [RATE_INPUT.source]: 'must be a rate in percent: a decimal string with at most 6 decimals, e.g. "3.5"',
  [UUID_KEY.source]: 'must be an id as this API writes them: lowercase hexadecimal with hyphens',
};

const LOCATIONS: Record<string, FieldError['in']> = { body: 'body', query: 'query', params: 'path', headers: 'header' };

/** "/body/instalments/0/amount" → { in: "body", field: "instalments.0.amount" }; one error per field. */
export function fieldErrorsFromValidator(error: ValidatorError): FieldError[] {
  const fields = (error.errors ?? []).map((item): FieldError => {
    const [where = 'body', ...rest] = (item.path ?? '').split('/').slice(1);
    const message = item.message ?? 'is invalid';
    const pattern = /^must match pattern "(.*)"$/.exec(message)?.[1];
    return {
      in: LOCATIONS[where] ?? 'body',
      field: rest.join('.'),
      message: (pattern && PATTERN_MESSAGES[pattern]) || message,
    };
  });
  return fields.filter((error, index) => fields.findIndex((other) => other.in === error.in && other.field === error.field) === index);
}
