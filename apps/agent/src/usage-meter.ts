/**
 * Usage metering on the node: what each piece of work consumes, from the kernel's own accounting.
 * Every `sampleMs` each sandbox's cgroup is read (CPU time, memory in use) and its network link's
 * byte counter; memory is integrated over time between samples (trapezoids, in GiB × seconds).
 * Every `reportMs`, and once more when the sandbox ends, the growth since the last report goes to
 * the server as a `usage` message, which keeps it per tenant (`GET /v1/usage`).
 *
 * CPU and egress are counters of the sandbox's own, so nothing is lost between samples; memory is
 * as exact as the sampling period. `current()` reads the same counters on demand (adaptive
 * scaling's `sandboxStats` call): CPU averaged since the last sample, memory now. A sandbox adopted after an agent restart is metered from the
 * moment it is adopted: what it used between the last report and the restart is not counted.
 */
import type { AgentMessage } from '@tartarus/core';

/** A usage report, as the link carries it. */
export type UsageMessage = Extract<AgentMessage, { type: 'usage' }>;

/** Where one sandbox's counters are read. */
export interface MeterSource {
  /** The sandbox's cgroup counters (CPU time since it started, memory in use now). */
  stats(): Promise<{ cpuUsageNs: number; memoryBytes: number }>;
  /** Bytes it has sent over its network link (0 without one). */
  egressBytes(): Promise<number>;
}

/** The work a meter reports for. */
export interface MeteredWork {
  workId: string;
  epoch: number;
  runtime: string;
}

interface Sample {
  atMs: number;
  cpuNs: number;
  memoryBytes: number;
  egressBytes: number;
}

const GIB = 1024 ** 3;
/** A new sandbox's baseline is read this long after it started, ms (dated from its start). */
const BASELINE_DELAY_MS = 100;
/** A CPU average over less than this is taken from the sample before the last (too short to mean much), ms. */
const MIN_WINDOW_MS = 1000;

/** What a sandbox uses now: mean cores since the last sample (over `windowMs`), memory in use. */
export interface UsageNow {
  cpuCores: number;
  memoryBytes: number;
  windowMs: number;
}

/** One sandbox's meter: its last sample, what it reported, and what accumulated since. */
class Meter {
  private seq = 0;
  private last: Sample | undefined;
  /** The sample before `last`. */
  private prev: Sample | undefined;
  private reported: Sample | undefined;
  private memoryGibSeconds = 0;
  private ended = false;
  /** Serialises samples and the final report (a sample must not run on a half-updated state). */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly work: MeteredWork,
    private readonly source: MeterSource,
    /** Adopted work starts from its counters now, not from zero (the old agent reported the rest). */
    private readonly fromCurrent: boolean,
  ) {}

  private begun = false;
  private beginTimer: NodeJS.Timeout | undefined;

  /** When metering began. */
  private readonly sinceMs = Date.now();

  /**
   * Takes the baseline after `delayMs`, dated from when metering began: for a new sandbox, whose
   * counters count from zero whenever they are read, so that the reads do not slow the create
   * still being answered. (Its CPU in those first moments is billed, but left out of the first
   * `current()` average.)
   */
  beginAfter(delayMs: number): void {
    this.beginTimer = setTimeout(() => void this.begin(), delayMs);
    this.beginTimer.unref();
  }

  /** Takes the first sample: the baseline (once). */
  begin(): Promise<void> {
    clearTimeout(this.beginTimer);
    if (this.begun) return this.chain;
    this.begun = true;
    return this.queue(async () => {
      const s = await this.read();
      if (!this.fromCurrent) s.atMs = this.sinceMs;
      this.last = s;
      this.reported = this.fromCurrent ? s : { atMs: s.atMs, cpuNs: 0, memoryBytes: 0, egressBytes: 0 };
    });
  }

  /** Takes a sample; returns a report when `reportMs` passed since the last one (or `final`). */
  sample(reportMs: number, final: boolean): Promise<UsageMessage | undefined> {
    let out: UsageMessage | undefined;
    return this.queue(async () => {
      if (this.ended) return;
      const s = await this.read();
      const prev = this.last;
      if (prev === undefined || this.reported === undefined) return;
      this.ended = final;
      // A counter that went backwards (the cgroup is gone) keeps its last value.
      s.cpuNs = Math.max(s.cpuNs, prev.cpuNs);
      s.egressBytes = Math.max(s.egressBytes, prev.egressBytes);
      this.memoryGibSeconds += ((prev.memoryBytes + s.memoryBytes) / 2 / GIB) * ((s.atMs - prev.atMs) / 1000);
      this.prev = prev;
      this.last = s;
      if (final || s.atMs - this.reported.atMs >= reportMs) out = this.report(s, final);
    }).then(() => out);
  }

  /** Reads the counters now, without taking a sample; undefined before the baseline. */
  async current(): Promise<UsageNow | undefined> {
    const last = this.last;
    if (last === undefined || this.ended) return undefined;
    const s = await this.read();
    const from = s.atMs - last.atMs < MIN_WINDOW_MS && this.prev !== undefined ? this.prev : last;
    const windowMs = s.atMs - from.atMs;
    // Only the baseline, taken a moment ago: nothing to average yet.
    if (windowMs < MIN_WINDOW_MS) return undefined;
    return { cpuCores: Math.max(0, s.cpuNs - from.cpuNs) / 1e6 / windowMs, memoryBytes: s.memoryBytes, windowMs };
  }

  private report(s: Sample, final: boolean): UsageMessage {
    const r = this.reported as Sample;
    const msg: UsageMessage = {
      type: 'usage',
      workId: this.work.workId,
      epoch: this.work.epoch,
      seq: ++this.seq,
      runtime: this.work.runtime,
      atMs: s.atMs,
      cpuSeconds: Math.max(0, s.cpuNs - r.cpuNs) / 1e9,
      memoryGibSeconds: this.memoryGibSeconds,
      sandboxSeconds: Math.max(0, s.atMs - r.atMs) / 1000,
      egressBytes: Math.max(0, s.egressBytes - r.egressBytes),
      final,
    };
    this.reported = s;
    this.memoryGibSeconds = 0;
    return msg;
  }

  private async read(): Promise<Sample> {
    const [stats, egressBytes] = await Promise.all([
      this.source.stats().catch(() => undefined),
      this.source.egressBytes().catch(() => 0),
    ]);
    return {
      atMs: Date.now(),
      cpuNs: stats?.cpuUsageNs ?? this.last?.cpuNs ?? 0,
      memoryBytes: stats?.memoryBytes ?? 0,
      egressBytes,
    };
  }

  private queue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step).catch(() => undefined);
    return this.chain;
  }
}

/** Timing of the meters. */
export interface UsageMeterOptions {
  /** How often each sandbox is sampled, ms. */
  sampleMs: number;
  /** How often a running sandbox's usage is reported, ms. */
  reportMs: number;
}

/** Every meter of this node, sampled on one timer. */
export class UsageMeters {
  private readonly meters = new Map<string, Meter>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    private readonly send: (m: UsageMessage) => void,
    private readonly options: UsageMeterOptions,
  ) {}

  /** Starts metering `work` (a new sandbox from zero; an adopted one from its counters now). */
  start(work: MeteredWork, source: MeterSource, adopted = false): void {
    const meter = new Meter(work, source, adopted);
    this.meters.set(work.workId, meter);
    // An adopted sandbox's baseline is its counters now; a new one's can wait until its create is answered.
    if (adopted) void meter.begin();
    else meter.beginAfter(BASELINE_DELAY_MS);
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.sampleAll(), this.options.sampleMs);
      this.timer.unref();
    }
  }

  /** Takes the last sample of `workId` and sends its final report; call before its sandbox is destroyed. */
  async end(workId: string): Promise<void> {
    const meter = this.meters.get(workId);
    if (meter === undefined) return;
    this.meters.delete(workId);
    await meter.begin();
    const report = await meter.sample(this.options.reportMs, true);
    if (report) this.send(report);
    if (this.meters.size === 0) this.stopTimer();
  }

  /** What `workId`'s sandbox uses now (see `Meter.current`); undefined when it is not metered or has no baseline yet. */
  current(workId: string): Promise<UsageNow | undefined> {
    return this.meters.get(workId)?.current() ?? Promise.resolve(undefined);
  }

  /** Stops metering without reports (the agent is shutting down; the sandboxes stay). */
  stop(): void {
    this.meters.clear();
    this.stopTimer();
  }

  private async sampleAll(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      for (const m of [...this.meters.values()]) {
        // Sent even when the work ended meanwhile: its final report (queued after) covers only the rest.
        const report = await m.sample(this.options.reportMs, false);
        if (report) this.send(report);
      }
    } finally {
      this.sampling = false;
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
