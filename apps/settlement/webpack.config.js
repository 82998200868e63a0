// Bundles only Payrail's own code; node_modules stay external (tools/webpack/node-app.cjs).
const { nodeAppConfig } = require('../../tools/webpack/node-app.cjs');

module.exports = nodeAppConfig('settlement');
