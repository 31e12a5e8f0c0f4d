/** Shared jest settings for every workspace: TypeScript through swc, tests under test/ and beside the code. */
module.exports = (dir, name) => ({
  displayName: name,
  rootDir: dir,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript', decorators: false }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  setupFilesAfterEnv: [require('path').join(__dirname, 'jest.setup.js')],
});
