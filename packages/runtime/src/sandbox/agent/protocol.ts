/**
 * The framed protocol between every driver and the in-sandbox agent (packages/runtime/guest),
 * over a virtio serial port (microVM) or the init's pipes (container, gVisor). Pure encoding and
 * decoding, no I/O.
 *
 * Frame: u32 payload length (little endian), u8 type, u32 id, payload. Payload fields are fixed
 * size little endian or byte strings (u32 length + bytes). argv and env go as string arrays
 * straight to execve() in the guest: no shell on either side. Keep in sync with guest/proto.h.
 */
import { InternalError } from '@tartarus/core';

/** Largest payload either side accepts (1 MiB); a bigger length from the guest is a broken agent. */
export const MAX_PAYLOAD_BYTES = 1 << 20;
const HEADER = 9;

/** Frame types, host → guest then guest → host. */
export const Msg = {
  exec: 1,
  stdin: 2,
  signal: 3,
  fileRead: 4,
  fileWrite: 5,
  fileList: 6,
  fileRemove: 7,
  stats: 8,
  killAll: 9,
  shutdown: 10,
  ping: 11,
  attach: 12,
  deadline: 13,
  user: 14,
  auth: 15,
  terminate: 16,
  clock: 17,
  ready: 64,
  started: 65,
  stdout: 66,
  stderr: 67,
  exit: 68,
  ok: 69,
  error: 70,
  data: 71,
} as const;

/** One decoded frame. */
export interface Frame {
  type: number;
  id: number;
  payload: Buffer;
}

/** Encodes one frame. */
export function encodeFrame(type: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(HEADER);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt8(type, 4);
  head.writeUInt32LE(id >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** Builds a payload field by field. */
export class PayloadWriter {
  private readonly parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.of(v & 0xff));
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(v))));
    this.parts.push(b);
    return this;
  }
  str(v: string | Buffer): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    return this.u32(b.length).raw(b);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Reads a payload field by field; throws `InternalError` past its end (a malformed frame). */
export class PayloadReader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.off + n > this.buf.length)
      throw new InternalError('malformed frame from the guest agent');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.off++);
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = Number(this.buf.readBigUInt64LE(this.off));
    this.off += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  get done(): boolean {
    return this.off >= this.buf.length;
  }
}

/** Splits a byte stream into frames; `push` returns every frame completed by the chunk. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32LE(0);
      if (len > MAX_PAYLOAD_BYTES + 64)
        throw new InternalError(`guest agent sent an oversized frame (${len} bytes)`);
      if (this.buf.length < HEADER + len) break;
      frames.push({
        type: this.buf.readUInt8(4),
        id: this.buf.readUInt32LE(5),
        payload: Buffer.from(this.buf.subarray(HEADER, HEADER + len)),
      });
      this.buf = this.buf.subarray(HEADER + len);
    }
    return frames;
  }
}

/** What an exec request carries. */
export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid: number;
  gid: number;
  /** Supplementary groups (besides `gid`). */
  groups?: number[] | undefined;
  stdin: boolean;
  /** The sandbox's main process: in a container the sandbox ends with it. */
  main?: boolean | undefined;
  /** Bytes per stream the guest forwards (it sends one more to show the overflow). */
  outputLimitBytes: number;
}

const EXEC_STDIN = 1;
const EXEC_GROUPS = 2;
const EXEC_MAIN = 4;
/** With EXEC_MAIN and an empty argv: the agent forks its own idle process (an image without `sleep`). */
const EXEC_IDLE = 8;

/** Encodes the payload of an `exec` frame. */
export function encodeExec(req: ExecRequest): Buffer {
  const w = new PayloadWriter()
    .u32(req.uid)
    .u32(req.gid)
    .u32((req.stdin ? EXEC_STDIN : 0) | (req.groups?.length ? EXEC_GROUPS : 0) | (req.main ? EXEC_MAIN : 0) | (req.main && req.argv.length === 0 ? EXEC_IDLE : 0))
    .u64(req.outputLimitBytes)
    .str(req.cwd);
  w.u32(req.argv.length);
  for (const a of req.argv) w.str(a);
  const env = Object.entries(req.env);
  w.u32(env.length);
  for (const [k, v] of env) w.str(`${k}=${v}`);
  if (req.groups?.length) {
    w.u32(req.groups.length);
    for (const g of req.groups) w.u32(g);
  }
  return w.build();
}

/** How a guest process ended, as the agent reports it. */
export interface ExitReport {
  exitCode: number;
  signal: number;
  oom: boolean;
}

/** Decodes the payload of an `exit` frame. */
export function decodeExit(payload: Buffer): ExitReport {
  const r = new PayloadReader(payload);
  return { exitCode: r.u32(), signal: r.u32(), oom: r.u8() === 1 };
}

/** Decodes the payload of an `error` frame: the guest's errno and message. */
export function decodeError(payload: Buffer): { errno: number; message: string } {
  const r = new PayloadReader(payload);
  return { errno: r.u32(), message: r.str() };
}
