/**
 * Finds the server to talk to, so that on one machine no configuration is needed:
 * `TARTARUS_URL` (+ `TARTARUS_API_KEY`) when set, else the files a local `tartarus up` wrote into
 * its data dir (`<data-dir>/url`, `<data-dir>/admin-key`).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Tartarus } from '@tartarus/sdk';
import { START_HINT } from './errors.js';

/** Where the server is and how to authenticate. */
interface Connection {
  /** Base URL, e.g. `http://127.0.0.1:7070`. */
  url: string;
  /** Bearer key; undefined when none was found (calls then fail with `unauthenticated`). */
  apiKey: string | undefined;
}

/** The data dir: `--data-dir`, else `TARTARUS_DATA_DIR`, else `~/.tartarus`. */
export function resolveDataDir(flag: string | undefined): string {
  const dir = flag ?? process.env.TARTARUS_DATA_DIR;
  return resolve(dir && dir.length > 0 ? dir : join(homedir(), '.tartarus'));
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text.length > 0 ? text : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Resolves the connection; throws a one-line error saying how to start a server when none is known. */
async function resolveConnection(dataDirFlag: string | undefined): Promise<Connection> {
  const envUrl = process.env.TARTARUS_URL;
  if (envUrl) return { url: envUrl, apiKey: process.env.TARTARUS_API_KEY || undefined };
  const dataDir = resolveDataDir(dataDirFlag);
  const url = await readTrimmed(join(dataDir, 'url'));
  if (!url)
    throw new Error(
      `no Tartarus server found in ${dataDir} (and TARTARUS_URL is not set): ${START_HINT}`,
    );
  const apiKey = process.env.TARTARUS_API_KEY || (await readTrimmed(join(dataDir, 'admin-key')));
  return { url, apiKey };
}

/** A client for the resolved connection. */
export async function connect(dataDirFlag: string | undefined): Promise<Tartarus> {
  const c = await resolveConnection(dataDirFlag);
  return new Tartarus({ url: c.url, apiKey: c.apiKey });
}
