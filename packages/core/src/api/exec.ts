/**
 * Schemas of exec in a running sandbox: `POST /v1/sandboxes/:id/exec` (JSON or SSE) and the
 * interactive WebSocket `GET /v1/sandboxes/:id/exec/ws`.
 */
import { z } from 'zod';
import {
  ArgvSchema,
  CommandStringSchema,
  durationMsSchema,
  EnvSchema,
  exactlyOneCommand,
  MAX_INLINE_STDIN,
} from './common.js';

/** Longest exec timeout: 24 h. Default 60 s; 0 means none. */
export const MAX_EXEC_TIMEOUT_MS = 86_400_000;

/** Why a process ended (as the runtime reports it). */
export const ExitReasonSchema = z.enum(['exited', 'killed', 'timeout', 'oom', 'error']);
/** Why a process ended. */
export type ExitReason = z.infer<typeof ExitReasonSchema>;

const ExecFields = {
  argv: ArgvSchema.optional(),
  /** Run with the template's shell (`sh -c`). */
  command: CommandStringSchema.optional(),
  env: EnvSchema.optional(),
  /** Absolute; default the template's workdir. */
  cwd: z.string().max(4096).regex(/^\//, 'cwd must be an absolute path').optional(),
  /** `name`, `uid` or `uid:gid`; default the template's user. */
  user: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'user must be a name, uid or uid:gid')
    .optional(),
  /** 0 for none; default 60 s, at most 24 h. */
  timeoutMs: durationMsSchema('timeoutMs', 0, MAX_EXEC_TIMEOUT_MS).default(60_000),
  /** UTF-8 text written to stdin, then closed (≤ 1 MiB). */
  stdin: z
    .string()
    .max(MAX_INLINE_STDIN, 'stdin must be at most 1 MiB; write a file instead')
    .optional(),
};

/** POST /v1/sandboxes/:id/exec body, and the first message of the exec WebSocket. */
export const ExecRequestSchema = z
  .strictObject(ExecFields)
  .superRefine(exactlyOneCommand)
  .meta({ id: 'ExecRequest' });
/** An exec request as sent. */
export type ExecRequest = z.input<typeof ExecRequestSchema>;

/** The outcome of an exec; a non-zero exit is data. Output is UTF-8 text (invalid bytes replaced). */
export const ExecResultSchema = z
  .object({
    exitCode: z.number().int().nullable(),
    reason: ExitReasonSchema,
    message: z.string().optional(),
    stdout: z.string(),
    stderr: z.string(),
    stdoutTruncated: z.boolean(),
    stderrTruncated: z.boolean(),
    durationMs: z.number(),
  })
  .meta({ id: 'ExecResult' });
/** The outcome of an exec. */
export type ExecResult = z.infer<typeof ExecResultSchema>;

/** Payload of the SSE `stdout`/`stderr` events (and of WebSocket `output` frames). */
export const OutputDataSchema = z.object({
  /** The bytes, as UTF-8 text or base64 per `encoding`. */
  data: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  /** When it was read on the node, ms since the epoch. */
  timeMs: z.number(),
});
/** One chunk of streamed output. */
export type OutputData = z.infer<typeof OutputDataSchema>;

/** Frames a client sends on the exec WebSocket after the first (the `ExecRequest`). */
export const ExecClientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('stdin'),
    data: z.string(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
  }),
  z.strictObject({ type: z.literal('closeStdin') }),
  z.strictObject({
    type: z.literal('kill'),
    signal: z.enum(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP']).default('SIGTERM'),
  }),
]);
/** A client frame on the exec WebSocket. */
export type ExecClientFrame = z.input<typeof ExecClientFrameSchema>;

/** Frames the server sends on the exec WebSocket; `exit` or `error` is the last one. */
export const ExecServerFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('output'),
    stream: z.enum(['stdout', 'stderr']),
    ...OutputDataSchema.shape,
  }),
  z.object({ type: z.literal('exit'), result: ExecResultSchema }),
  z.object({
    type: z.literal('error'),
    error: z.object({ code: z.string(), message: z.string() }),
  }),
]);
/** A server frame on the exec WebSocket. */
export type ExecServerFrame = z.infer<typeof ExecServerFrameSchema>;
