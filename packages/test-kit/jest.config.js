module.exports = require('../../jest.preset')(__dirname, '@mpb/test-kit');
