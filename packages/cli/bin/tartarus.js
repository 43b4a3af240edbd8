#!/usr/bin/env node
// Entry point of the `tartarus` command: the one-file bundle that `npm run build` makes
// (scripts/bundle-cli.mjs), or the compiled modules when it was not made.
import { access } from 'node:fs/promises';

const bundle = new URL('../dist/tartarus.mjs', import.meta.url);
const entry = await access(bundle).then(
  () => bundle.href,
  () => new URL('../dist/main.js', import.meta.url).href,
);
const { main } = await import(entry);
process.exitCode = await main(process.argv);
