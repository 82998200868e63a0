// Bundles only Payrail's own code; node_modules stay external (tools/webpack/node-app.cjs). The page
// (src/assets: HTML, one ES module, one stylesheet) is copied as it is: no browser build step.
const { nodeAppConfig } = require('../../tools/webpack/node-app.cjs');

module.exports = nodeAppConfig('console', {
  assets: [{ input: './src/assets', glob: '**/*', output: 'assets' }],
});
