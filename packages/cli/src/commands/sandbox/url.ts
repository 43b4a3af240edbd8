/** `tartarus sandbox url ID PORT`: the URL of a sandbox's port through the server's proxy. */
import { Command, InvalidArgumentError as FlagError } from 'commander';
import { connect } from '../../connection.js';
import { allOptions, durationFlag, withJson } from '../../options.js';
import { printJson } from '../../output.js';

interface UrlOptions {
  json?: boolean;
  token?: boolean;
  ttl?: number;
}

function portArg(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535 || text.trim() === '') throw new FlagError(`"${text}" is not a port (1..65535)`);
  return n;
}

/** Builds `tartarus sandbox url`. */
export function urlCommand(): Command {
  const cmd = new Command('url')
    .description("print the URL of a sandbox's port through the server's proxy (HTTP, WebSocket, SSE)")
    .argument('<id>', 'sandbox id')
    .argument('<port>', 'port the sandbox listens on', portArg)
    .option('--token', 'add an access token to the URL, so that it works without the API key (a browser)')
    .option('--ttl <duration>', "the token's lifetime (default 1h, at most 7d)", durationFlag);
  return withJson(cmd).action(async (id: string, port: number, _o: unknown, self: Command) => {
    const o = allOptions<UrlOptions>(self);
    const sandbox = await (await connect(o.dataDir)).sandboxes.connect(id);
    let url = await sandbox.getHost(port);
    let token: { token: string; expiresAt: string } | undefined;
    if (o.token || o.ttl !== undefined) {
      token = await sandbox.createAccessToken(o.ttl === undefined ? {} : { ttlMs: o.ttl });
      url = `${url}?tt_token=${encodeURIComponent(token.token)}`;
    }
    if (o.json) printJson({ url, ...(token ? { token: token.token, expiresAt: token.expiresAt } : {}) });
    else process.stdout.write(`${url}\n`);
  });
}
