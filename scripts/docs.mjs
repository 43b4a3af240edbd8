#!/usr/bin/env node
// `npm run docs`: writes the generated references, docs/reference/api.md (from the server's
// OpenAPI document) and docs/reference/cli.md (from the CLI's command tree). Tests fail when the
// committed files differ from what this writes.
import { mkdir, writeFile } from 'node:fs/promises';
import { buildProgram } from '../packages/cli/dist/program.js';
import { cliReference } from '../packages/cli/dist/reference.js';
import { apiReference } from '../apps/server/dist/http/reference.js';
import { liveOpenApi } from '../apps/server/dist/http/openapi-live.js';

const dir = new URL('../docs/reference/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('api.md', dir), apiReference(await liveOpenApi()));
await writeFile(new URL('cli.md', dir), cliReference(buildProgram()));
console.log('wrote docs/reference/api.md and docs/reference/cli.md');
