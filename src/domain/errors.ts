/** The closed list of error codes; src/http/problem.ts maps each to a status and a problem type. */
export type ErrorCode =
  | 'invalid_request' // the request does not match the contract (syntax, types, formats, unknown fields)
  | 'rule_violation' // well-formed, but breaks a business rule (deferral ≥ term, rate above 100 %, …)
  | 'unauthenticated' // no API key, or an unknown or revoked one
  | 'forbidden' // a key acting within its scope but beyond its role (a write by an auditor)
  | 'not_found' // missing, or outside the key's scope: the two are indistinguishable on purpose
  | 'conflict' // the state of the resource forbids it (disbursing a cancelled loan, a duplicate SIRET)
  | 'precondition_failed' // If-Match names none of the resource's current ETags: it changed since the client read it
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'too_many_requests' // over a rate limit: failed authentications per address or key prefix, previews per address
  | 'unavailable'; // the database is away (restarting, failing over), or a concurrent change undid the transaction: try again shortly

/** One offending field: `field` is a dotted path within its part of the request ("principal", "department_codes.1"). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
  /** Where the field is; the request body unless said otherwise. */
  readonly in?: 'body' | 'query' | 'path' | 'header';
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: readonly FieldError[] = [],
    /** Members the problem carries besides the standard ones (an import's report). */
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
