// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // examples/api-types.d.ts is generated (npm run client:types); examples/*.ts are linted as the rest.
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'examples/api-types.d.ts'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // The pure functional core: decimal arithmetic and domain/ only, no clock, no environment.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        // An allow-list: sibling modules and decimal.js; no other layer, no I/O or framework library.
        patterns: [{ regex: '^(?!\\./[\\w.-]+$|decimal\\.js$)', message: 'src/domain is pure: it imports only src/domain and decimal.js.' }],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'src/domain does not read the environment: take it as an argument.' },
        { name: 'fetch', message: 'src/domain does no I/O.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'src/domain does not read the clock: callers pass "today" in.' },
        { object: 'Math', property: 'random', message: 'src/domain is deterministic.' },
        { object: 'globalThis', property: 'process', message: 'src/domain does not read the environment: take it as an argument.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/domain does not read the clock: callers pass "today" in.' },
        { selector: "CallExpression[callee.name='Date']", message: 'src/domain does not read the clock: callers pass "today" in.' },
      ],
    },
  },
  {
    // Shared plumbing sits below the features: it never imports one.
    files: ['src/http/**/*.ts', 'src/db/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./(access|audit|funds|idempotency|ledger|loans|products|schedules|servicing|structures)/', message: 'src/http and src/db do not import features.' }],
      }],
    },
  },
  {
    // A feature reaches another one through its use cases, never its repository.
    files: ['src/access/**/*.ts', 'src/audit/**/*.ts', 'src/funds/**/*.ts', 'src/ledger/**/*.ts', 'src/loans/**/*.ts', 'src/products/**/*.ts', 'src/schedules/**/*.ts', 'src/structures/**/*.ts', 'src/servicing/**/*.ts', 'src/idempotency/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./[a-z-]+/[a-z-]+\\.repository$', message: 'Call the other feature’s use case, not its repository.' }],
      }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
