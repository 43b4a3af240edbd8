/**
 * Reads the member paths of a tar archive (POSIX ustar, GNU and pax), so that a build context can
 * be checked before it is sent to a node: a context that is not a tar, or lacks its Dockerfile,
 * is the caller's mistake (400), not the node's failure. Contents are never read, only headers.
 */
import { InvalidArgumentError } from '@tartarus/core';

const BLOCK = 512;

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** The size field: octal text, or base-256 when its high bit is set (GNU, for ≥ 8 GiB). */
function sizeOf(block: Buffer): number {
  const raw = block.subarray(124, 136);
  if (((raw[0] ?? 0) & 0x80) !== 0) return raw.subarray(1).reduce((n, b) => n * 256 + b, 0);
  const text = field(block, 124, 12).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** A pax extended header's `path` record, if any (`<len> path=<value>\n`). */
function paxPath(data: Buffer): string | undefined {
  const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
  return m?.[1];
}

function notTar(why: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `context is not a tar archive (${why}): send an uncompressed tar of the build context, base64 (e.g. tar -C DIR -cf - . | base64 -w0)`,
  );
}

/** `./a/b/` → `a/b`: the form paths are compared in. */
export function normalizeTarPath(path: string): string {
  return path
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/^\/+/, '');
}

/** Every member path of `archive`, normalised; InvalidArgumentError when it is not a tar. */
export function tarPaths(archive: Buffer): string[] {
  if (archive.length < BLOCK || archive.subarray(257, 262).toString('latin1') !== 'ustar')
    throw notTar(
      archive[0] === 0x1f && archive[1] === 0x8b ? 'it is gzip-compressed' : 'no ustar header',
    );
  const paths: string[] = [];
  let longName: string | undefined;
  for (let at = 0; at + BLOCK <= archive.length;) {
    const block = archive.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) break;
    const size = sizeOf(block);
    if (!Number.isSafeInteger(size) || size < 0) throw notTar(`a bad size field at byte ${at}`);
    const type = String.fromCharCode(block[156] ?? 0);
    const data = archive.subarray(at + BLOCK, at + BLOCK + size);
    if (data.length < size) throw notTar('it is truncated');
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') longName = field(data, 0, data.length);
    else if (type === 'x') longName = paxPath(data) ?? longName;
    else if (type !== 'g') {
      // Only POSIX ustar (`ustar\0`) has a prefix field; GNU (`ustar  `) keeps times there.
      const posix = block.subarray(257, 263).toString('latin1') === 'ustar\0';
      const prefix = posix ? field(block, 345, 155) : '';
      const name =
        longName ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
      paths.push(normalizeTarPath(name));
      longName = undefined;
    }
  }
  return paths;
}
