/** The closed list of error codes; src/http/problem.ts maps each to a status and a problem type. */
export type ErrorCode =
  | 'invalid_request' // the request does not match the contract (syntax, types, formats, unknown fields)
  | 'rule_violation' // well-formed, but breaks a business rule (deferral ≥ term, rate above 100 %, …)
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type';

/** One offending field: `field` is a dotted path within its part of the request ("principal", "department_codes.1"). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
