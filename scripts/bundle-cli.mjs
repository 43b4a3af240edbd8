#!/usr/bin/env node
// Bundles the compiled CLI (packages/cli/dist/main.js and everything it imports but the server,
// agent and runtime, which only `tartarus up` and `tartarus gc` load, on demand, and the
// deployment spec parser (zod, yaml, croner: ~1.2 MB, ~20 ms of every start if inlined), which
// only `validate`, `import compose` and the deploy commands load, on demand) into one file,
// packages/cli/dist/tartarus.mjs, that bin/tartarus.js loads: one file to read and compile
// instead of ~100 modules to resolve, which is most of a CLI start-up after Node's own.
// esbuild (a dev dependency) is made for exactly this; run after `tsc -b` (`npm run build`).
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../packages/cli/dist/main.js', import.meta.url).pathname],
  outfile: new URL('../packages/cli/dist/tartarus.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@tartarus/server', '@tartarus/agent', '@tartarus/runtime', '@tartarus/core/deploy'],
  // commander and ws are CommonJS: give them a require() in the ESM bundle.
  banner: { js: "import { createRequire as __ttRequire } from 'node:module'; const require = __ttRequire(import.meta.url);" },
  logLevel: 'warning',
});
