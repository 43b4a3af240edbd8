/** What the template commands share: running with a progress display, and one-line summaries. */
import type { Template, TemplateProgress } from '@tartarus/sdk';
import { ProgressDisplay } from '../../progress.js';

/** Runs `fn` with a progress display on stderr, ended whether it succeeds or fails. */
export async function withProgress<T>(
  fn: (onProgress: (p: TemplateProgress) => void) => Promise<T>,
): Promise<T> {
  const display = new ProgressDisplay();
  try {
    return await fn((p) => display.update(p));
  } finally {
    display.finish();
  }
}

/** `12.3 MiB`, or null when unknown. */
export function sizeText(bytes: number | null): string | null {
  return bytes === null ? null : `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

/** `web (image 127.0.0.1:5000/app:1, sha256:0123456789ab, 1.2 MiB)`. */
export function summary(t: Template): string {
  const parts = [
    t.description,
    t.digest?.replace(/^(sha256:)?(.{12}).*$/, '$1$2'),
    sizeText(t.sizeBytes),
  ];
  return `${t.name} (${parts.filter((p) => p).join(', ')})`;
}
