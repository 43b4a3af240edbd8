/**
 * Turns debootstrap's `I: ...` lines into build phases with a rough fraction. debootstrap never
 * prints a package total, so the download phase is measured against an estimate given by the
 * builder, and the later phases against the number of packages actually downloaded.
 */

/** One progress step parsed from a debootstrap line. */
export interface DebootstrapStep {
  phase: 'resolve' | 'download' | 'extract' | 'install' | 'configure' | 'finalize';
  /** 0..1 of the debootstrap part of the build; never goes backwards. */
  fraction: number;
}

// [phase, start, end] of each phase within 0..1.
const RANGES = {
  resolve: [0, 0.03],
  download: [0.03, 0.4],
  extract: [0.4, 0.5],
  install: [0.5, 0.7],
  configure: [0.7, 0.97],
  finalize: [0.97, 1],
} as const;

/** Stateful parser: feed it every line of one debootstrap run in order. */
export class DebootstrapProgress {
  private phase: DebootstrapStep['phase'] = 'resolve';
  private downloaded = 0;
  private countInPhase = 0;
  private fraction = 0;

  /** @param expectedPackages rough number of .deb files the run downloads (e.g. ~90 for minbase). */
  constructor(private readonly expectedPackages: number) {}

  /** The step for `line`, or undefined for a line that is not an `I:` progress line. */
  next(line: string): DebootstrapStep | undefined {
    const m = /^I: (\S+)\s*(\S*)/.exec(line.trim());
    if (!m) return undefined;
    const [, verb, subject = ''] = m;
    // Index files (InRelease, Packages) come before any package; "Unpacking the base system..."
    // and the like head a phase without being a package.
    const isIndex = subject === 'InRelease' || subject === 'Packages' || subject === 'Release';
    const isHeader = /(required packages|base packages|core packages|the base system)\.\.\.$/.test(
      line.trim(),
    );
    const counts = !isIndex && !isHeader;
    if (verb === 'Retrieving' && counts) this.enter('download');
    else if (verb === 'Validating' && counts) {
      this.enter('download');
      this.countInPhase = ++this.downloaded;
    } else if (verb === 'Extracting') this.count('extract', counts);
    else if (verb === 'Installing' || verb === 'Unpacking') this.count('install', counts);
    else if (verb === 'Configuring') this.count('configure', counts);
    else if (verb === 'Base') this.enter('finalize');
    return { phase: this.phase, fraction: this.advance() };
  }

  /** The phase and fraction reached so far (for lines that are not progress lines). */
  current(): DebootstrapStep {
    return { phase: this.phase, fraction: this.fraction };
  }

  private enter(phase: DebootstrapStep['phase']): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.countInPhase = 0;
  }

  private count(phase: DebootstrapStep['phase'], counts: boolean): void {
    this.enter(phase);
    if (counts) this.countInPhase++;
  }

  private advance(): number {
    const [start, end] = RANGES[this.phase];
    const total = this.phase === 'download' ? this.expectedPackages : Math.max(this.downloaded, 1);
    const within =
      this.phase === 'finalize' ? 1 : Math.min(this.countInPhase / Math.max(total, 1), 1);
    this.fraction = Math.max(this.fraction, start + (end - start) * within);
    return this.fraction;
  }
}

/** Splits a byte stream into lines; the last partial line waits for the next chunk. */
export class LineSplitter {
  private rest = '';
  /** Returns the complete lines in `chunk` (without newline). */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/\r?\n/);
    this.rest = parts.pop() ?? '';
    return parts;
  }
  /** Returns the trailing partial line, if any. */
  flush(): string[] {
    const last = this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}
