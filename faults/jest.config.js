const preset = require('../jest.preset')(__dirname, '@mpb/faults');

module.exports = {
  ...preset,
  // One platform instance of its own (broker, Redis, PostgreSQL proxy, services) for every fault file;
  // the files break it one after another (run with --runInBand), each leaving it recovered.
  globalSetup: '<rootDir>/test/harness/global-setup.mjs',
  globalTeardown: '<rootDir>/test/harness/global-teardown.mjs',
};
