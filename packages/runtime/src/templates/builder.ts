/**
 * What a template builder is given and returns. A builder fills an empty `rootfs` directory;
 * the store owns everything around it (temp dir, lock, template.json, rename into place).
 */
import type { TemplateDefaults } from './types.js';

/** Everything a builder needs; resolved once by the store. */
export interface BuildContext {
  name: string;
  /** Empty directory to fill; renamed into place by the store on success. */
  rootfs: string;
  /** Persistent cache shared by builds (e.g. downloaded packages): `<dir>/.cache`. */
  cacheDir: string;
  /** Aborted when every caller waiting on this build has cancelled. */
  signal: AbortSignal;
  /** Host busybox-static binary. */
  busyboxPath: string;
  /** Debian mirror URL for debootstrap. */
  debianMirror: string;
  /** Reports progress; `fraction` is 0..1 of the whole build when known. */
  report(phase: string, message: string, fraction?: number): void;
}

/** What a builder returns. */
export interface BuildResult {
  /** Hex sha256 identifying the content (packages or binaries, and the builder version). */
  digest: string;
}

/** One known template: how to build it and the defaults its processes get. */
export interface TemplateDefinition {
  name: string;
  description: string;
  defaults: TemplateDefaults;
  /** Bumped whenever the builder's output changes; a template built by another version is rebuilt. */
  builderVersion: number;
  build(ctx: BuildContext): Promise<BuildResult>;
}
