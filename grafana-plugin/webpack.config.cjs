// Webpack build of the plugin frontend: src/module.ts -> dist/module.js as an
// AMD module, the format Grafana's plugin loader (SystemJS) expects. Grafana
// provides the packages listed in EXTERNALS at run time, so they are not
// bundled. plugin.json and the logo are copied next to module.js.
//
// PLUGIN_JSON overrides the plugin.json path (default: ./plugin.json, written
// by the backend side of the plugin).
const fs = require('node:fs');
const path = require('node:path');
const CopyPlugin = require('copy-webpack-plugin');

const pkg = require('./package.json');

const PLUGIN_ID = 'routerlogger-fleet-datasource';

/** EXTERNALS are the modules Grafana shares with plugins. */
const EXTERNALS = [
  '@grafana/data',
  '@grafana/ui',
  '@grafana/runtime',
  'react',
  'react-dom',
  'rxjs',
  'rxjs/operators',
  '@emotion/css',
];

function pluginJsonPath() {
  const file = path.resolve(__dirname, process.env.PLUGIN_JSON || 'plugin.json');
  if (!fs.existsSync(file)) {
    throw new Error(
      `plugin.json not found at ${file}: write grafana-plugin/plugin.json or set PLUGIN_JSON`
    );
  }
  return file;
}

// fillPluginJson replaces the %VERSION% and %TODAY% placeholders, if any.
function fillPluginJson(content) {
  const today = new Date().toISOString().slice(0, 10);
  return content
    .toString()
    .replace(/%VERSION%/g, pkg.version)
    .replace(/%TODAY%/g, today);
}

module.exports = (_env, argv) => {
  const production = argv.mode !== 'development';

  return {
    mode: production ? 'production' : 'development',
    context: __dirname,
    target: ['web', 'es2021'],
    entry: { module: './src/module.ts' },
    devtool: production ? 'source-map' : 'eval-source-map',
    output: {
      path: path.resolve(__dirname, 'dist'),
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: `public/plugins/${PLUGIN_ID}/`,
      uniqueName: PLUGIN_ID,
      // The backend's binaries (gpx_*) share dist/: keep them.
      clean: { keep: /^gpx_/ },
    },
    externals: EXTERNALS,
    resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
    module: {
      rules: [
        {
          test: /\.[jt]sx?$/,
          exclude: /node_modules/,
          loader: 'esbuild-loader',
          options: { target: 'es2021', jsx: 'automatic' },
        },
      ],
    },
    plugins: [
      new CopyPlugin({
        patterns: [
          { from: pluginJsonPath(), to: 'plugin.json', transform: fillPluginJson },
          { from: 'img/logo.svg', to: 'img/logo.svg' },
        ],
      }),
    ],
    performance: { hints: false },
    stats: production ? 'errors-warnings' : 'normal',
  };
};

module.exports.EXTERNALS = EXTERNALS;
module.exports.PLUGIN_ID = PLUGIN_ID;
