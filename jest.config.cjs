// One Jest run over every package (`npm test`), or one package with --selectProjects NAME.
const path = require('node:path');

const packages = ['core', 'ntdll-backend', 'helper-exe', 'codemod', 'cli'];
const babelConfig = path.join(__dirname, 'babel.config.cjs');

const project = (name) => ({
  displayName: name,
  rootDir: path.join(__dirname, 'packages', name),
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testEnvironment: 'node',
  transform: { '^.+\\.[cm]?[jt]s$': ['babel-jest', { configFile: babelConfig }] },
  // ESM-only dependencies, made CommonJS for Jest (Node itself loads them either way).
  transformIgnorePatterns: ['/node_modules/(?!human-signals/)'],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'mjs', 'json'],
  moduleNameMapper: {
    // Tests run against the sources of sibling packages, not their builds.
    '^@forkexec/core$': '<rootDir>/../core/src/index.ts',
    '^@forkexec/core/(posix|backend-kit|child_process|register)$': '<rootDir>/../core/src/$1.ts',
    '^@forkexec/ntdll-backend/internal$': '<rootDir>/../ntdll-backend/src/internal.ts',
    '^@forkexec/core/testing$': '<rootDir>/../core/src/testing/index.ts',
    '^@forkexec/(ntdll-backend|helper-exe|codemod)$': '<rootDir>/../$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
});

module.exports = {
  projects: packages.map(project),
  testTimeout: 60_000,
  reporters: [
    'default',
    [path.join(__dirname, 'scripts', 'reliability-reporter.cjs'), { projects: packages }],
    path.join(__dirname, 'scripts', 'summary-reporter.cjs'),
  ],
};
