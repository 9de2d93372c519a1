import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import type { FieldError } from '../domain/errors';
import { MONEY_INPUT } from '../domain/money';
import { RATE_INPUT } from '../domain/rate';
import { fieldErrorsFromValidator, OPENAPI_PATH } from '../http/openapi';

/**
 * The request schemas of openapi.yaml, compiled as the API's validator compiles them (all errors,
 * no type coercion, formats in full): an imported row breaks exactly the rules, in the same words,
 * that the same fields sent to POST /v1/structures, /v1/loans or /v1/loans/{id}/repayments would.
 */
const SPEC_ID = 'openapi.yaml';
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function validatorOf(schema: string): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: false });
    addFormats(ajv, { mode: 'full' });
    ajv.addFormat('amount', MONEY_INPUT);
    ajv.addFormat('rate', RATE_INPUT);
    ajv.addSchema(
      YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as object,
      SPEC_ID,
      undefined,
      false,
    );
  }
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/${schema}` });
    compiled.set(schema, validate);
  }
  return validate;
}

/** Ajv's error as express-openapi-validator reports it: a missing property is named in its path. */
const asValidatorItem = (error: ErrorObject) => ({
  path: `/body${error.instancePath}${error.keyword === 'required' ? `/${String(error.params.missingProperty)}` : ''}`,
  message: error.message,
});

/** The fields of `body` that break the schema, by field, as a 400 of the API names them. */
export function schemaErrors(
  schema: 'StructureCreate' | 'LoanCreate' | 'RepaymentCreate',
  body: unknown,
): FieldError[] {
  const validate = validatorOf(schema);
  if (validate(body)) return [];
  return fieldErrorsFromValidator({
    status: 400,
    message: '',
    errors: (validate.errors ?? []).map(asValidatorItem),
  });
}
