/**
 * What a partner portal shows a structure (the borrower), with the API's typed client:
 * its loans, the first one's schedule and next due date, and that loan's statement; and, with
 * WEBHOOK_URL, the registration of the portal's webhook endpoint.
 *
 *   npm run client:types        # examples/api-types.d.ts, generated from openapi.yaml
 *   API_URL=https://loans.example.org API_KEY=sk_… [WEBHOOK_URL=https://portal.example.org/hooks] \
 *     npx tsx examples/partner-portal.ts
 *
 * API_KEY is a key of role `structure`: it sees that structure's loans only.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './api-types';

type Loan = components['schemas']['Loan'];
type LoanInstalment = components['schemas']['LoanInstalment'];
type StatementLine = components['schemas']['LoanStatement']['lines'][number];
type Api = ReturnType<typeof createClient<paths>>;

export interface PortalSummary {
  readonly loans: readonly Loan[];
  /** The first loan's schedule, next due date and statement; null when the structure has no loan. */
  readonly first: {
    readonly loan: Loan;
    readonly instalments: readonly LoanInstalment[];
    readonly nextDueDate: string | null;
    readonly statement: readonly StatementLine[];
  } | null;
}

/** The first instalment not fully paid that falls due today or later (dates compare as YYYY-MM-DD text). */
export function nextDueDate(instalments: readonly LoanInstalment[], today: string): string | null {
  return instalments.find((instalment) => instalment.status !== 'paid' && instalment.due_date >= today)?.due_date ?? null;
}

/** The answer's body, or an Error that carries the problem+json the API sent instead. */
function bodyOf<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) throw new Error(`${answer.response.status} from ${answer.response.url}: ${JSON.stringify(answer.error)}`);
  return answer.data;
}

export function portalClient(apiUrl: string, apiKey: string): Api {
  return createClient<paths>({ baseUrl: apiUrl, headers: { Authorization: `Bearer ${apiKey}` } });
}

/**
 * Subscribes the portal to its structure's repayments and overdue loans. The answer holds the
 * endpoint's signing secret, shown this once: keep it to verify each delivery (Standard Webhooks).
 */
export async function registerWebhookEndpoint(api: Api, url: string) {
  return bodyOf(await api.POST('/v1/webhook-endpoints', {
    body: { url, event_types: ['repayment.recorded', 'loan.overdue'], description: 'Partner portal' },
  }));
}

/** Today in Europe/Paris, as the API counts days: YYYY-MM-DD. */
const todayInParis = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());

/** `today`: the date the statuses are read as of, and from which the next due date is looked for. */
export async function main(apiUrl: string, apiKey: string, today = todayInParis()): Promise<PortalSummary> {
  const api = portalClient(apiUrl, apiKey);

  // Every page of the loans: a page holds at most `limit` of them and names the next one.
  const loans: Loan[] = [];
  let cursor: string | undefined;
  do {
    const page = bodyOf(await api.GET('/v1/loans', { params: { query: { limit: 200, cursor } } }));
    loans.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);

  const loan = loans[0];
  if (!loan) return { loans, first: null };
  const params = { path: { loan_id: loan.id }, query: { as_of: today } };
  const [schedule, statement] = await Promise.all([
    api.GET('/v1/loans/{loan_id}/schedule', { params }).then(bodyOf),
    api.GET('/v1/loans/{loan_id}/statement', { params }).then(bodyOf),
  ]);
  return {
    loans,
    first: { loan, instalments: schedule.instalments, nextDueDate: nextDueDate(schedule.instalments, today), statement: statement.lines },
  };
}

function print({ loans, first }: PortalSummary): void {
  console.log(`${loans.length} loan(s)`);
  if (!first) return;
  const { loan, nextDueDate: due, instalments, statement } = first;
  console.log(`\nLoan ${loan.id}: ${loan.principal} EUR, ${loan.status}, ${loan.outstanding_principal} EUR outstanding`);
  console.log(`Next due date: ${due ?? 'none'}`);
  const next = instalments.find((instalment) => instalment.due_date === due);
  if (next) console.log(`  instalment ${next.number}: ${next.total} EUR, ${next.paid} EUR paid`);
  console.log('\nStatement');
  for (const line of statement) console.log(`  ${line.value_date}  ${line.type.padEnd(20)} ${line.cash.padStart(12)}  balance ${line.balance}`);
}

async function run(apiUrl: string, apiKey: string, webhookUrl: string | undefined): Promise<void> {
  print(await main(apiUrl, apiKey));
  if (!webhookUrl) return;
  const endpoint = await registerWebhookEndpoint(portalClient(apiUrl, apiKey), webhookUrl);
  console.log(`\nWebhook endpoint ${endpoint.id} for ${endpoint.event_types.join(', ')} (enabled: ${endpoint.enabled})`);
  console.log(`Its signing secret, shown this once: ${endpoint.secret}`);
}

if (require.main === module) {
  const { API_URL, API_KEY, WEBHOOK_URL } = process.env;
  if (!API_URL || !API_KEY) {
    console.error('Set API_URL and API_KEY (a structure key); WEBHOOK_URL to register a webhook endpoint.');
    process.exit(2);
  }
  run(API_URL, API_KEY, WEBHOOK_URL).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
