import { contractMismatches } from '../support/contract';

/** The contract check used by every integration test must itself be able to fail. */
describe('the response contract check', () => {
  const preview = {
    instalment_amount: '1.00',
    total_interest: '0.00',
    total_capitalised_interest: '0.00',
    total_payable: '1.00',
    instalments: [],
  };
  const json = { 'content-type': 'application/json; charset=utf-8' };

  it('accepts a response that matches openapi.yaml', () => {
    expect(
      contractMismatches(
        { status: 200, headers: json, body: preview },
        'post',
        '/v1/schedules/preview',
      ),
    ).toEqual([]);
  });

  it('rejects money as a number, a missing field, an undocumented status or content type, an unknown route', () => {
    expect(
      contractMismatches(
        { status: 200, headers: json, body: { ...preview, total_payable: 1 } },
        'post',
        '/v1/schedules/preview',
      ),
    ).not.toEqual([]);
    expect(
      contractMismatches(
        { status: 200, headers: json, body: { ...preview, instalments: undefined } },
        'post',
        '/v1/schedules/preview',
      ),
    ).not.toEqual([]);
    expect(
      contractMismatches(
        { status: 200, headers: json, body: { ...preview, total_payable: '1.0' } },
        'post',
        '/v1/schedules/preview',
      ),
    ).not.toEqual([]);
    expect(
      contractMismatches(
        { status: 201, headers: json, body: preview },
        'post',
        '/v1/schedules/preview',
      ),
    ).not.toEqual([]);
    expect(
      contractMismatches(
        { status: 200, headers: { 'content-type': 'text/html' }, body: preview },
        'post',
        '/v1/schedules/preview',
      ),
    ).not.toEqual([]);
    expect(
      contractMismatches({ status: 200, headers: json, body: preview }, 'post', '/v1/nowhere'),
    ).not.toEqual([]);
  });

  it('rejects a problem without its required members', () => {
    const problem = { 'content-type': 'application/problem+json' };
    expect(
      contractMismatches(
        { status: 400, headers: problem, body: { title: 'x', status: 400 } },
        'post',
        '/v1/schedules/preview',
      ),
    ).not.toEqual([]);
  });
});
