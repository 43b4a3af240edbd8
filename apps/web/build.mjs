#!/usr/bin/env node
// Bundles the dashboard for browsers into apps/web/dist: index.html, app.js, app.css (and the
// source map). Run by `npm run build` after `tsc -b`, which type-checks it (apps/web/tsconfig.json,
// no emit). esbuild is the repository's bundler already (scripts/bundle-cli.mjs).
//
// It is also the check that the SDK is browser-clean: the build fails if a Node module, `ws` or
// the SDK's Node-only exec socket would enter the bundle, or if the SDK's public type
// declarations name a Node-only type.
import { build } from 'esbuild';
import { copyFile, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const here = new URL('.', import.meta.url).pathname;
const dist = `${here}dist`;

await rm(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: `${here}src/main.tsx` },
  outdir: dist,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  minify: true,
  sourcemap: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});
await copyFile(`${here}src/index.html`, `${dist}/index.html`);

const failures = Object.keys(result.metafile.inputs).filter((p) =>
  /^node:|(^|\/)node_modules\/ws\/|sdk\/dist\/exec-socket-node\.js$/.test(p),
);
// The SDK's declarations as a browser user sees them (its test fixture is Node-only by design).
const sdkDist = new URL('../../packages/sdk/dist/', import.meta.url).pathname;
for (const f of await readdir(sdkDist)) {
  if (!f.endsWith('.d.ts') || f.startsWith('test-server') || f.endsWith('.test.d.ts')) continue;
  const code = (await readFile(`${sdkDist}${f}`, 'utf8')).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  if (/\bBuffer\b|from ['"](node:[\w/]+|ws)['"]|NodeJS\./.test(code)) failures.push(`packages/sdk/dist/${f}`);
}
if (failures.length > 0) {
  console.error(`web build: Node-only code or types in the browser bundle:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
// Compressed copies, sent to browsers that accept them (the server's @fastify/static `preCompressed`).
for (const f of ['app.js', 'app.css', 'index.html']) {
  const raw = await readFile(`${dist}/${f}`);
  await writeFile(`${dist}/${f}.br`, brotliCompressSync(raw));
  await writeFile(`${dist}/${f}.gz`, gzipSync(raw, { level: 9 }));
}
const out = result.metafile.outputs;
const size = (f) => `${Math.round((out[`apps/web/dist/${f}`]?.bytes ?? 0) / 1024)} KiB`;
console.log(`web build: apps/web/dist (app.js ${size('app.js')}, app.css ${size('app.css')})`);
