// The webpack config every deployable app builds with: Payrail's own code bundled for Node, node_modules left
// external (the generated package.json lists them, with the lock file Nx prunes: the Docker image installs exactly
// those). An app passes its name and what it adds (extra entry points, assets).
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

/**
 * @param {string} app the app's folder name under apps/ (and under dist/apps/)
 * @param {object} [extra] more NxAppWebpackPlugin options (e.g. additionalEntryPoints, assets)
 */
function nodeAppConfig(app, extra = {}) {
  return {
    output: { path: join(__dirname, '../../dist/apps', app) },
    devtool: 'source-map',
    plugins: [
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        tsConfig: './tsconfig.app.json',
        optimization: false,
        outputHashing: 'none',
        generatePackageJson: true,
        // the bundle requires tslib (tsconfig importHelpers), which Nx's project graph does not see as an import of
        // the app: without this, an image whose other dependencies do not pull tslib in fails at start
        // (deploy:boot found it in the payrail-cli image)
        runtimeDependencies: ['tslib'],
        sourceMap: true,
        skipTypeChecking: true,
        ...extra,
      }),
    ],
  };
}

module.exports = { nodeAppConfig };
