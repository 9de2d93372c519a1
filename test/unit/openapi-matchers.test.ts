import { createRequire } from 'node:module';
import { compileMatchersOnce } from '../../src/http/openapi';

describe('the validator’s route matchers', () => {
  it('are compiled once per route and options, in the copy of path-to-regexp the validator loads', () => {
    compileMatchersOnce();
    const { pathToRegexp } = createRequire(require.resolve('express-openapi-validator'))('path-to-regexp') as {
      pathToRegexp: (route: string, options?: object) => { regexp: RegExp; keys: { name: string }[] };
    };
    const first = pathToRegexp('/v1/loans/:id/repayments', { sensitive: false, strict: false });
    expect(pathToRegexp('/v1/loans/:id/repayments', { sensitive: false, strict: false })).toBe(first);
    expect(pathToRegexp('/v1/loans/:id/repayments', { sensitive: true, strict: false })).not.toBe(first);
    expect(pathToRegexp('/v1/loans/:id/repayments', { sensitive: true, strict: false })).toBe(pathToRegexp('/v1/loans/:id/repayments', { sensitive: true, strict: false }));
    // An option the validator does not pass is compiled afresh, never served from another's matcher.
    expect(pathToRegexp('/v1/loans/:id/repayments', { end: false } as object)).not.toBe(pathToRegexp('/v1/loans/:id/repayments', { end: false } as object));
    // and they still match as before, again and again (no state kept between matches)
    for (let i = 0; i < 3; i++) expect(first.regexp.exec('/v1/loans/abc/repayments')?.[1]).toBe('abc');
    expect(first.keys.map((k) => k.name)).toEqual(['id']);
  });
});
