/**
 * Builds the panel as Grafana loads it (dist/: AMD module.js, plugin.json, logo, README) and the TV-wall page's
 * browser bundle (tvwall/dist/). esbuild rather than Grafana's webpack scaffold (@grafana/create-plugin: webpack,
 * SWC loaders and their configs): one devDependency of this package, the version tsx already brings, and a build in
 * about a second. esbuild has no AMD output, so the CommonJS bundle is wrapped in
 * define() with Grafana's shared modules (React, @grafana/*) as the AMD dependencies.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GRAFANA_EXTERNALS } from './externals';

const root = __dirname;
const dist = path.join(root, 'dist');

export function wrapAsAmd(commonJsCode: string, dependencies: readonly string[]): string {
  const params = dependencies.map((_, i) => `__amd${i}`);
  const table = dependencies.map((name, i) => `${JSON.stringify(name)}: __amd${i}`).join(', ');
  return (
    `define(${JSON.stringify(dependencies)}, function (${params.join(', ')}) {\n` +
    `var __shared = { ${table} };\n` +
    `var require = function (name) { if (Object.prototype.hasOwnProperty.call(__shared, name)) return __shared[name]; throw new Error("flymining-rackmap-panel: unknown module " + name); };\n` +
    `var module = { exports: {} }, exports = module.exports;\n` +
    `${commonJsCode}\n` +
    `return module.exports;\n});\n`
  );
}

async function buildPanel(): Promise<void> {
  const result = await build({
    entryPoints: [path.join(root, 'src/module.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: 'es2020',
    // Classic React.createElement: not every Grafana version shares react/jsx-runtime with plugins.
    tsconfigRaw: { compilerOptions: { jsx: 'react' } },
    external: GRAFANA_EXTERNALS,
    minify: true,
    sourcemap: false,
    write: false,
    legalComments: 'none',
  });
  const code = result.outputFiles[0]!.text;
  const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
  const unknown = [...required].filter((name) => !GRAFANA_EXTERNALS.includes(name));
  if (unknown.length) throw new Error(`panel bundle requires modules Grafana does not provide: ${unknown.join(', ')}`);
  const used = GRAFANA_EXTERNALS.filter((name) => required.has(name));
  mkdirSync(path.join(dist, 'img'), { recursive: true });
  writeFileSync(path.join(dist, 'module.js'), wrapAsAmd(code, used));
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const pluginJson = readFileSync(path.join(root, 'src/plugin.json'), 'utf8')
    .replace('%VERSION%', pkg.version)
    .replace('%TODAY%', new Date().toISOString().slice(0, 10));
  writeFileSync(path.join(dist, 'plugin.json'), pluginJson);
  copyFileSync(path.join(root, 'src/img/logo.svg'), path.join(dist, 'img/logo.svg'));
  copyFileSync(path.join(root, 'README.md'), path.join(dist, 'README.md'));
}

async function buildTvWall(): Promise<void> {
  await build({
    entryPoints: { tvwall: path.join(root, 'tvwall/client.tsx'), bench: path.join(root, 'tvwall/bench-page.tsx') },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    outdir: path.join(root, 'tvwall/dist'),
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (require.main === module) {
  const started = Date.now();
  Promise.all([buildPanel(), buildTvWall()]).then(
    () => console.log(`[grafana-plugin] built dist/ and tvwall/dist/ in ${Date.now() - started} ms`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
