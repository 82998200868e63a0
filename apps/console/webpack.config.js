// Bundles only Payrail's own code; node_modules stay external (the generated package.json lists them). The page
// (src/assets: HTML, one ES module, one stylesheet) is copied as it is: no browser build step.
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

module.exports = {
  output: { path: join(__dirname, '../../dist/apps/console') },
  devtool: 'source-map',
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      assets: [{ input: './src/assets', glob: '**/*', output: 'assets' }],
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
      skipTypeChecking: true,
    }),
  ],
};
