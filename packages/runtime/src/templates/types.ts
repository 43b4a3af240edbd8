/** Built-in template names; OCI images join later as `image:<ref>`. */
export type TemplateName = 'busybox' | 'debian' | 'python';

/** Defaults a template gives every process started in it, unless the caller overrides them. */
export interface TemplateDefaults {
  /**
   * Main process when the caller gives none (a long-lived idle process for sandboxes); `[]` means
   * the in-sandbox agent's own idle process (image templates: no binary of the image is needed).
   */
  argv: string[];
  /** An image's ENTRYPOINT (Docker's rules: prepended to any command); built-in templates have none. */
  entrypoint?: string[];
  /** An image's CMD: what a run without a command executes (after the ENTRYPOINT). */
  cmd?: string[];
  env: Record<string, string>;
  cwd: string;
  user: string;
  /** The shell used for string commands (`sh -c <string>`). */
  shell: string[];
}

/** A built template: a read-only root filesystem plus defaults, shared by every sandbox. */
export interface TemplateInfo {
  name: string;
  /** Absolute host path of the read-only root filesystem directory. */
  rootfsPath: string;
  defaults: TemplateDefaults;
  /** Content digest of the root (changes when the template is rebuilt). */
  digest: string;
  sizeBytes: number;
  builtAtMs: number;
}

/** Progress of a template build, reported as it goes. */
export interface TemplateProgress {
  template: string;
  /** Short phase name, e.g. `debootstrap`, `install`, `finalize`. */
  phase: string;
  /** 0..1 when known. */
  fraction?: number;
  /** The latest line of the build tool's output. */
  message: string;
  /** An image pull: layers and bytes fetched so far of the total. */
  layersDone?: number;
  layersTotal?: number;
  bytesDone?: number;
  bytesTotal?: number;
}
