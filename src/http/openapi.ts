import { existsSync } from 'node:fs';
import path from 'node:path';
import * as OpenApiValidator from 'express-openapi-validator';
import type { RequestHandler } from 'express';
import type { FieldError } from '../domain/errors';
import { formatMoney, MONEY_INPUT, parseMoney } from '../domain/money';
import { formatRate, parseRate, RATE_INPUT } from '../domain/rate';
import { UUID_KEY } from './pagination';

/** The contract, at the repository root: two levels up from src/http, three from dist/src/http. */
export const OPENAPI_PATH =
  ['../..', '../../..']
    .map((up) => path.resolve(__dirname, up, 'openapi.yaml'))
    .find((candidate) => existsSync(candidate)) ?? 'openapi.yaml';

/** Validates every request against openapi.yaml (responses are checked by the tests). */
export function openApiValidator(): RequestHandler[] {
  return OpenApiValidator.middleware({
    apiSpec: OPENAPI_PATH,
    validateRequests: { allErrors: true, coerceTypes: false, allowUnknownQueryParameters: false },
    validateResponses: false,
    validateFormats: true,
    ajvFormats: { mode: 'full' }, // 'full' rejects impossible dates such as 2023-02-30
    validateSecurity: false,
    fileUploader: false, // no route takes multipart uploads
    // Amounts and rates leave the validator in their one written form ("500" → "500.00", "3.50" →
    // "3.5"): what is stored, answered, replayed and audited is never the client's spelling.
    serDes: [
      { format: 'amount', deserialize: (text: string) => formatMoney(parseMoney(text)) },
      { format: 'rate', deserialize: (text: string) => formatRate(parseRate(text)) },
    ],
  }) as RequestHandler[];
}

interface ValidatorError {
  status: number;
  message: string;
  headers?: { Allow?: string };
  errors?: { path?: string; message?: string; errorCode?: string }[];
}

export function isValidatorError(error: unknown): error is ValidatorError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as ValidatorError).status === 'number' &&
    Array.isArray((error as ValidatorError).errors)
  );
}

/** The one range of every date and instant the contract takes (openapi.yaml's CalendarDate and Instant). */
const DATE_IN_RANGE = String.raw`^(19|2\d)\d{2}-\d{2}-\d{2}$`;
const INSTANT_IN_RANGE = String.raw`^(19|2\d)\d{2}-`;

/** Plain words for the patterns of openapi.yaml, which are the domain's own input formats. */
const PATTERN_MESSAGES: Record<string, string> = {
  [DATE_IN_RANGE]: 'must be a date between 1900-01-01 and 2999-12-31 (YYYY-MM-DD)',
  [INSTANT_IN_RANGE]: 'must be an instant between the years 1900 and 2999 (RFC 3339)',
  [MONEY_INPUT.source]:
    'must be an amount: a decimal string with at most 2 decimals and no sign or exponent, e.g. "1250.00"',
  [RATE_INPUT.source]:
    'must be a rate in percent: a decimal string with at most 6 decimals, e.g. "3.5"',
  [UUID_KEY.source]: 'must be an id as this API writes them: lowercase hexadecimal with hyphens',
};

const LOCATIONS: Record<string, FieldError['in']> = {
  body: 'body',
  query: 'query',
  params: 'path',
  headers: 'header',
};

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
  const seen = new Set<string>();
  return fields.filter((error) => {
    const key = `${error.in}\u0000${error.field}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
