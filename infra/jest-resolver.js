/**
 * kubernetes-models and its helper packages export their files under the `import` condition only;
 * jest asks with `require`. Those requests are resolved as an ES module import would be (swc then
 * compiles the files to CommonJS, see jest.config.js); every other request resolves as usual.
 */
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(
    request,
    ESM_ONLY.test(request) ? { ...options, conditions: ['import', 'node', 'default'] } : options,
  );
