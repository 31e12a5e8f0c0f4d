/** Root jest: one run over every workspace, so CI counts every test once. */
module.exports = {
  projects: [
    '<rootDir>/packages/*/jest.config.js',
    '<rootDir>/services/*/jest.config.js',
    '<rootDir>/e2e/jest.config.js',
    '<rootDir>/infra/jest.config.js',
    '<rootDir>/faults/jest.config.js',
  ],
};
