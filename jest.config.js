/** One test command for everything: unit tests of src/domain and HTTP integration tests on PostgreSQL. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Two workers on the 2-core CI machine, not jest's default of one: most suites wait on PostgreSQL,
  // Redis, browsers and child processes rather than compute (490 s of tests in one worker, 310 s in two).
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/setup/after-env.ts'],
};
