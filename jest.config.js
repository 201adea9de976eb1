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
const ESM_ONLY_PACKAGES = [
  '@nestjs', '@standard-schema',
  // execa 9 (the agent's child-process adapter) and the ESM-only packages it loads.
  'execa', '@sindresorhus', '@sec-ant', 'figures', 'get-stream', 'human-signals', 'is-plain-obj', 'is-stream',
  'is-unicode-supported', 'npm-run-path', 'parse-ms', 'path-key', 'pretty-ms', 'strip-final-newline', 'unicorn-magic', 'yoctocolors',
];

const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': tsJest,
    '^.+\\.js$': '<rootDir>/test/jest/esm-package.transformer.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // unicorn-magic (under execa) exports only under the "import" condition, which Jest's require does not use.
  moduleNameMapper: { '^unicorn-magic$': '<rootDir>/node_modules/unicorn-magic/node.js' },
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/node-image/src/**/*.spec.ts', '<rootDir>/node-image/bench/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
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
