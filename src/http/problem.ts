import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { DomainError, type ErrorCode, type FieldError } from '../domain/errors';
import { conflictsWithAnother, isDatabaseUnavailable } from '../db/errors';
import { fieldErrorsFromValidator, isValidatorError } from './openapi';

/** Offending fields listed in a problem at most; beyond, only their number is given (`errors_omitted`). */
export const MAX_LISTED_ERRORS = 50;

/** Seconds a client is asked to wait before trying again while the database is away (a restart takes a few). */
export const RETRY_AFTER_SECONDS = 2;

interface ProblemKind {
  readonly status: number;
  readonly title: string;
}

/** The one mapping from an error code to HTTP: adding a code without a case here does not compile. */
function problemKind(code: ErrorCode): ProblemKind {
  switch (code) {
    case 'invalid_request':
      return { status: 400, title: 'Invalid request' };
    case 'rule_violation':
      return { status: 422, title: 'Business rule violated' };
    case 'unauthenticated':
      return { status: 401, title: 'Unauthenticated' };
    case 'forbidden':
      return { status: 403, title: 'Forbidden' };
    case 'not_found':
      return { status: 404, title: 'Not found' };
    case 'conflict':
      return { status: 409, title: 'Conflict' };
    case 'precondition_failed':
      return { status: 412, title: 'Precondition failed' };
    case 'method_not_allowed':
      return { status: 405, title: 'Method not allowed' };
    case 'unsupported_media_type':
      return { status: 415, title: 'Unsupported media type' };
    case 'too_many_requests':
      return { status: 429, title: 'Too many requests' };
    case 'unavailable':
      return { status: 503, title: 'Service unavailable' };
    default: {
      const unknown: never = code;
      throw new Error(`no problem kind for ${String(unknown)}`);
    }
  }
}

const CODE_BY_VALIDATOR_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  404: 'not_found',
  405: 'method_not_allowed',
  415: 'unsupported_media_type',
};

interface ClientError {
  status?: unknown;
  expose?: unknown;
  type?: unknown;
  message: string;
}

/**
 * Errors of express.json() (http-errors, `expose` set, 4xx): malformed JSON, a body over the
 * size limit, an unknown charset or Content-Encoding, a corrupt compressed body.
 */
function bodyParserError(error: unknown): DomainError | undefined {
  const { status, expose, type, message } = (error ?? {}) as ClientError;
  if (expose !== true || typeof status !== 'number' || status < 400 || status > 499)
    return undefined;
  if (type === 'entity.parse.failed')
    return new DomainError('invalid_request', 'The request body is not valid JSON.', [
      { field: '', message: 'is not valid JSON' },
    ]);
  if (type === 'entity.too.large')
    return new DomainError('invalid_request', 'The request body is larger than 100 kB.', [
      { field: '', message: 'is larger than 100 kB' },
    ]);
  if (status === 415)
    return new DomainError(
      'unsupported_media_type',
      `The request body cannot be read: ${message}.`,
    );
  return new DomainError('invalid_request', `The request body cannot be read: ${message}.`, [
    { field: '', message },
  ]);
}

function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (isDatabaseUnavailable(error)) {
    return conflictsWithAnother(error)
      ? new DomainError(
          'unavailable',
          'The request met a concurrent change and was not applied: try it again.',
        )
      : new DomainError(
          'unavailable',
          'The database did not answer (restarting or failing over). Try again in a few seconds: a change lost ' +
            'with the connection while it committed may have been made, so repeat a money movement under the same Idempotency-Key (it ' +
            'then answers as the first time) and look before repeating another change.',
        );
  }
  const fromBody = bodyParserError(error);
  if (fromBody) return fromBody;
  if (isValidatorError(error)) {
    const code = CODE_BY_VALIDATOR_STATUS[error.status];
    if (code === 'invalid_request')
      return new DomainError(
        code,
        'The request does not match the API contract.',
        fieldErrorsFromValidator(error),
      );
    if (code === 'unsupported_media_type')
      return new DomainError(code, 'The request body must be application/json.');
    if (code) return new DomainError(code, error.message);
  }
  return undefined;
}

const typeUri = (code: ErrorCode) => `/problems/${code.replaceAll('_', '-')}`;

/** Every error leaves as application/problem+json (RFC 9457); anything unforeseen is a logged 500. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = toDomainError(error);
    const requestId = String(req.id ?? '');
    if (!known) {
      logger.error({ err: error, request_id: requestId }, 'unhandled error');
      res.status(500).type('application/problem+json').json({
        type: '/problems/internal-error',
        title: 'Internal server error',
        status: 500,
        detail: 'The server failed to handle this request; it has been logged.',
        instance: req.originalUrl,
        request_id: requestId,
      });
      return;
    }
    const { status, title } = problemKind(known.code);
    if (status === 503) {
      logger.warn(
        {
          err: { message: (error as Error).message, code: (error as { code?: unknown }).code },
          request_id: requestId,
        },
        'database unavailable, or a transaction to try again',
      );
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    const allow = isValidatorError(error) ? error.headers?.Allow : undefined;
    if (allow) res.setHeader('Allow', allow);
    const body: Record<string, unknown> = {
      ...known.extensions,
      type: typeUri(known.code),
      title,
      status,
      detail: known.message,
      instance: req.originalUrl,
      request_id: requestId,
    };
    if (known.fields.length > 0)
      body.errors = known.fields.slice(0, MAX_LISTED_ERRORS).map(withLocation);
    if (known.fields.length > MAX_LISTED_ERRORS)
      body.errors_omitted = known.fields.length - MAX_LISTED_ERRORS;
    res.status(status).type('application/problem+json').json(body);
  };
}

/** Field errors are about the body unless they say otherwise. */
function withLocation(error: FieldError): FieldError {
  return { in: 'body', ...error };
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new DomainError('not_found', `No route ${req.method} ${req.path}.`);
};
