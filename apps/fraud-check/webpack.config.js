// Bundles only Payrail's own code; node_modules stay external (the generated package.json lists them).
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

module.exports = {
  output: { path: join(__dirname, '../../dist/apps/fraud-check') },
  devtool: 'source-map',
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      // operators' tools in the same image: node fraud-cli.js backtest|operator-token ...
      additionalEntryPoints: [{ entryName: 'fraud-cli', entryPath: './src/cli/fraud-cli.ts' }],
      tsConfig: './tsconfig.app.json',
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
      skipTypeChecking: true,
    }),
  ],
};
