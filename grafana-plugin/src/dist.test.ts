// Checks the built bundle: dist/module.js must be one AMD define() whose
// dependencies are only modules Grafana provides, and whose factory exports a
// DataSourcePlugin with the config and query editors set. Run after the
// build (`npm run test:dist`); a missing dist fails.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { EXTERNALS, PLUGIN_ID } = require('../webpack.config.cjs') as {
  EXTERNALS: string[];
  PLUGIN_ID: string;
};

const DIST = join(__dirname, '..', 'dist');

interface Defined {
  deps: string[];
  factory: (...modules: unknown[]) => Record<string, unknown>;
}

// loadAMD runs module.js with a recording define() and nothing else global.
function loadAMD(source: string): Defined[] {
  const defined: Defined[] = [];
  const define = (deps: string[], factory: Defined['factory']) => defined.push({ deps, factory });
  (define as unknown as { amd: object }).amd = {};
  runInNewContext(source, { define, console });
  return defined;
}

// StubPlugin stands in for @grafana/data's DataSourcePlugin.
class StubPlugin {
  configEditor?: unknown;
  queryEditor?: unknown;
  constructor(readonly DataSourceClass: unknown) {}
  setConfigEditor(editor: unknown) {
    this.configEditor = editor;
    return this;
  }
  setQueryEditor(editor: unknown) {
    this.queryEditor = editor;
    return this;
  }
}

// stubModule answers every named import with a harmless class, so the
// bundle's top level can run without Grafana.
function stubModule(name: string): unknown {
  const exports: Record<string | symbol, unknown> = {};
  if (name === '@grafana/data') {
    exports.DataSourcePlugin = StubPlugin;
  }
  return new Proxy(exports, {
    get: (target, key) =>
      key in target ? target[key] : key === '__esModule' ? true : class Stub {},
  });
}

describe('dist/module.js', () => {
  const source = readFileSync(join(DIST, 'module.js'), 'utf8');

  it('is a single AMD module with only Grafana externals', () => {
    const defined = loadAMD(source);

    expect(defined).toHaveLength(1);
    expect(defined[0].deps.length).toBeGreaterThan(0);
    for (const dep of defined[0].deps) {
      expect(EXTERNALS, `dependency ${dep}`).toContain(dep);
    }
    expect(defined[0].deps).toEqual(
      expect.arrayContaining(['@grafana/data', '@grafana/runtime', 'react'])
    );
  });

  it('defines plugin with the config and query editors', () => {
    const [{ deps, factory }] = loadAMD(source);

    const exports = factory(...deps.map(stubModule));

    expect(exports.plugin).toBeInstanceOf(StubPlugin);
    const plugin = exports.plugin as StubPlugin;
    expect(plugin.DataSourceClass).toBeTypeOf('function');
    expect(plugin.configEditor).toBeTypeOf('function');
    expect(plugin.queryEditor).toBeTypeOf('function');
  });

  it('bundles no copy of the externals', () => {
    expect(source).not.toMatch(/DataSourceWithBackend\s*=\s*class|react-dom\.production/);
  });
});

describe('dist assets', () => {
  it('has plugin.json for this plugin', () => {
    const pluginJson = JSON.parse(readFileSync(join(DIST, 'plugin.json'), 'utf8'));

    expect(pluginJson.id).toBe(PLUGIN_ID);
    expect(pluginJson.type).toBe('datasource');
    expect(JSON.stringify(pluginJson)).not.toContain('%VERSION%');
  });

  it('has the logo', () => {
    expect(readFileSync(join(DIST, 'img', 'logo.svg'), 'utf8')).toContain('<svg');
  });
});
