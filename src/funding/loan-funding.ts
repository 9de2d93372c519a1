import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import type { Database } from '../db/schema';
import { DomainError, type FieldError } from '../domain/errors';
import {
  fundMix,
  isPositivePercent,
  PERCENT_DECIMALS,
  shortPercent,
  sumsToHundred,
  type Share,
} from '../domain/funding-split';
import { listFundingSources, listLoanShares, replaceLoanShares } from './funding.repository';

export interface ShareBody {
  funding_source_id: string;
  percent: string;
}

const PERCENT = new RegExp(`^\\d{1,3}(\\.\\d{1,${PERCENT_DECIMALS}})?$`);

/**
 * Writes a loan's split, inside the caller's transaction: the shares given, or else the fund's mix
 * (each source's share of the committed amounts; none when the fund records no source). Given shares
 * name sources of the loan's fund (404 naming the item otherwise), each once, each above 0, summing
 * to exactly 100 (422 otherwise, naming `field` and its items). Called by the loan's creation (field `funding`) and by PUT …/funding.
 */
export async function assignLoanFunding(
  trx: Transaction<Database>,
  fundId: string,
  loanId: string,
  given: readonly ShareBody[] | undefined,
  field: string,
): Promise<Share[]> {
  const sources = await listFundingSources(trx, fundId);
  const shares =
    given === undefined
      ? fundMix(sources.map((s) => ({ sourceId: s.id, committed: s.amount_committed })))
      : checkedShares(given, new Set(sources.map((s) => s.id)), field);
  await replaceLoanShares(trx, loanId, shares);
  return shares;
}

function checkedShares(
  given: readonly ShareBody[],
  ofTheFund: ReadonlySet<string>,
  field: string,
): Share[] {
  if (given.length === 0) return []; // no split: the loan is unallocated (docs/funding.md)
  // A source of another fund is, for this loan, one that does not exist: 404 naming it, as any id out of reach.
  const unknown: FieldError[] = given.flatMap((share, i) =>
    ofTheFund.has(share.funding_source_id)
      ? []
      : [{ field: `${field}.${i}.funding_source_id`, message: 'not found' }],
  );
  if (unknown.length > 0)
    throw new DomainError('not_found', 'No such funding source in the loan’s fund.', unknown);
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  given.forEach((share, i) => {
    if (seen.has(share.funding_source_id))
      errors.push({ field: `${field}.${i}.funding_source_id`, message: 'is named twice' });
    seen.add(share.funding_source_id);
    if (!PERCENT.test(share.percent) || !isPositivePercent(share.percent))
      errors.push({
        field: `${field}.${i}.percent`,
        message: `must be above 0, with at most ${PERCENT_DECIMALS} decimals`,
      });
  });
  const shares = given.map((s) => ({ sourceId: s.funding_source_id, percent: s.percent }));
  if (errors.length === 0 && !sumsToHundred(shares))
    errors.push({ field, message: 'the percentages must sum to exactly 100' });
  if (errors.length > 0)
    throw new DomainError(
      'rule_violation',
      'The loan’s funding split breaks a business rule.',
      errors,
    );
  return shares;
}

/** A loan's split as the API shows it: percentages in their shortest form, by source id. */
export const loanFundingView = (loanId: string, shares: readonly Share[]) => ({
  loan_id: loanId,
  shares: [...shares]
    .sort((a, b) => (a.sourceId < b.sourceId ? -1 : 1))
    .map((s) => ({ funding_source_id: s.sourceId, percent: shortPercent(s.percent) })),
});

export async function loanShares(db: Db | Transaction<Database>, loanId: string): Promise<Share[]> {
  return (await listLoanShares(db, loanId)).map((row) => ({
    sourceId: row.funding_source_id,
    percent: row.percent,
  }));
}
