#!/usr/bin/env node
// `npm run docs`: writes the generated references, docs/reference/api.md (from the server's
// OpenAPI document), docs/reference/cli.md (from the CLI's command tree) and
// docs/reference/configuration.md (from the config schemas). Tests fail when the committed files
// differ from what this writes.
import { mkdir, writeFile } from 'node:fs/promises';
import { buildProgram } from '../packages/cli/dist/program.js';
import { cliReference } from '../packages/cli/dist/reference.js';
import { apiReference } from '../apps/server/dist/http/reference.js';
import { liveOpenApi } from '../apps/server/dist/http/openapi-live.js';
import { repoConfigReference } from '../apps/server/dist/config-reference.js';
import { SERVER_OPTIONS } from '../apps/server/dist/config.js';
import { AGENT_OPTIONS } from '../apps/agent/dist/config.js';

const dir = new URL('../docs/reference/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('api.md', dir), apiReference(await liveOpenApi()));
await writeFile(new URL('cli.md', dir), cliReference(buildProgram()));
await writeFile(new URL('configuration.md', dir), await repoConfigReference(new URL('../', import.meta.url), SERVER_OPTIONS, AGENT_OPTIONS));
console.log('wrote docs/reference/api.md, cli.md and configuration.md');
