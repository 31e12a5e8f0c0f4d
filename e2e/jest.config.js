const preset = require('../jest.preset')(__dirname, '@mpb/e2e');

module.exports = {
  ...preset,
  // The platform runs as real processes for the whole e2e run: started once, shared by the files.
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
};
