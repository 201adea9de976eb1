/**
 * Three projects: fast pure unit specs (`--selectProjects unit`), integration specs that start real
 * processes and clients (`--selectProjects integration`, run in band), and end-to-end specs that run
 * node containers in the real Docker engine (`--selectProjects e2e`, run in band; they need the node
 * image and the test guest that scripts/setup.sh builds).
 */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }];

/**
 * ESM-only packages that Jest must rewrite to CommonJS before it can load them on Node < 24.9
 * (see test/jest/esm-package.transformer.js). A new ESM-only dependency that tests reach goes here;
 * the symptom of a missing entry is "Must use import to load ES Module".
 */
const ESM_ONLY_PACKAGES = ['@nestjs', '@standard-schema'];

const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': tsJest,
    '^.+\\.js$': '<rootDir>/test/jest/esm-package.transformer.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/node-image/src/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/node-image/test/**/*.int-spec.ts', '<rootDir>/test/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/node-image/test/e2e/**/*.e2e-spec.ts', '<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      // Several TCG boots per test on a 2-core machine (each bounded by its own wait of 120 s). jest-circus
      // applies only the global testTimeout: the set-up file sets the same limit for this project.
      testTimeout: 600_000,
      setupFilesAfterEnv: ['<rootDir>/node-image/test/e2e/jest-timeout.ts'],
    },
  ],
};
