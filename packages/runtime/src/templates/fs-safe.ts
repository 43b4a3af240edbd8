/**
 * Safe removal of build and template directories. A build runs tools (debootstrap) that may
 * mount /proc, /sys or bind-mount /dev inside the tree; a plain recursive delete would descend
 * into those mounts and could delete host device nodes. So: unmount whatever lies beneath first,
 * then delete without crossing file systems.
 */
import { readFile, stat } from 'node:fs/promises';
import { runCommand } from '../process/run.js';

/** Mount points at or below `dir`, deepest first, read from /proc/self/mountinfo. */
export async function mountsBelow(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return text
    .split('\n')
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

// mountinfo escapes space, tab, newline and backslash as octal (\040...).
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Removes `dir` and everything in it; a missing `dir` is fine. Anything mounted beneath it is
 * lazily unmounted first, and `rm --one-file-system` refuses to follow a mount that survived.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await stat(dir);
  } catch {
    return;
  }
  for (const mountPoint of await mountsBelow(dir)) {
    await runCommand(['umount', '--lazy', mountPoint], { allowNonZero: true, timeoutMs: 30_000 });
  }
  await runCommand(['rm', '-rf', '--one-file-system', '--', dir], { timeoutMs: 10 * 60_000 });
}
