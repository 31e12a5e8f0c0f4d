const preset = require('../jest.preset')(__dirname, '@mpb/infra');

// kubernetes-models (and the few packages it imports) ship ES modules only, with `import`-only
// export maps: jest-resolver.js resolves them, and swc turns them into CommonJS like the tests.
const esmPackages = '(kubernetes-models|@kubernetes-models/[^/]+|is-cidr|cidr-regex)';

module.exports = {
  ...preset,
  resolver: '<rootDir>/jest-resolver.js',
  transform: {
    ...preset.transform,
    [`/node_modules/${esmPackages}/.+\\.js$`]: [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!\\.pnpm/|${esmPackages}/)`],
};
