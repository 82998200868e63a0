// Bundles only Payrail's own code; node_modules stay external (tools/webpack/node-app.cjs).
const { nodeAppConfig } = require('../../tools/webpack/node-app.cjs');

module.exports = nodeAppConfig('fraud-check', {
  // operators' tools in the same image: node fraud-cli.js backtest|operator-token ...
  additionalEntryPoints: [{ entryName: 'fraud-cli', entryPath: './src/cli/fraud-cli.ts' }],
});
