// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';

/**
 * The layers of src, bottom first (docs/architecture.md): a folder imports only the folders of the
 * layers below its own, never one beside it or above it, so that no two folders import each other.
 * src/domain is listed for the order; its own rule below is stricter (decimal.js and itself only).
 */
const LAYERS = [
  ['domain'],
  ['db'],
  ['http'],
  ['metrics', 'queues', 'evaluation'],
  ['outbox', 'events', 'audit'],
  ['idempotency'],
  ['funds'],
  ['webhooks', 'structures', 'products', 'funding', 'territories'],
  ['access', 'impact', 'state-aid', 'reports', 'reminders'],
  ['schedules'],
  ['loans'],
  ['ledger'],
  ['servicing'],
  ['exports', 'imports'],
];
// A new folder of src must take its place in a layer, or nothing would check its imports.
const unlayered = readdirSync(new URL('./src', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !LAYERS.flat().includes(entry.name))
  .map((entry) => `src/${entry.name}`);
if (unlayered.length > 0) throw new Error(`${unlayered.join(', ')}: in no layer of eslint.config.mjs`);
/** The plumbing below the features: they have no repository, and import no feature. */
const PLUMBING = ['domain', 'db', 'http'];

/** One no-restricted-imports per folder (a later config's options would replace an earlier one's). */
function layerRules() {
  return LAYERS.flatMap((layer, index) =>
    layer
      .filter((folder) => folder !== 'domain')
      .map((folder) => {
        const barred = [...layer.filter((other) => other !== folder), ...LAYERS.slice(index + 1).flat()];
        const patterns = [{
          regex: `^\\.\\./(${barred.join('|')})(/|$)`,
          message: `src/${folder} is in layer ${index + 1} of docs/architecture.md: it imports only from the layers below.`,
        }];
        if (!PLUMBING.includes(folder))
          patterns.push({ regex: '^\\.\\./[a-z-]+/[a-z-]+\\.repository$', message: 'Call the other feature’s use case, not its repository.' });
        return { files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
      }),
  );
}

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
  ...layerRules(),
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly', URL: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
