/**
 * Snapshots of sandboxes (`POST /v1/sandboxes/:id/snapshots`, `GET|DELETE /v1/snapshots/…`): a
 * sandbox's files as they were, kept content-addressed on its node, that new sandboxes start from
 * (`POST /v1/sandboxes {snapshot}`). With `memory` (microVMs without a network), its memory and
 * processes too: a sandbox made from it goes on from that moment; else its processes start afresh.
 */
import { z } from 'zod';
import { IdSchema, RuntimeNameSchema, TimestampSchema } from './common.js';

/** The label every node carries with its own id (placement pins work to a node with it). */
export const NODE_ID_LABEL = 'tartarus.dev/node';

/** A snapshot. */
export const SnapshotSchema = z
  .object({
    id: IdSchema,
    /** The sandbox it was taken of. */
    sandboxId: z.string(),
    template: z.string(),
    runtime: RuntimeNameSchema,
    /** The node that holds it: sandboxes made from it run there. */
    nodeId: z.string(),
    /** The content digest of its files (`sha256:…`); equal files are kept once per node. */
    digest: z.string(),
    sizeBytes: z.number().int(),
    /** Whether memory and processes were kept too (a sandbox made from it goes on from that moment). */
    memory: z.boolean(),
    createdAt: TimestampSchema,
  })
  .meta({ id: 'Snapshot' });
/** A snapshot. */
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** GET /v1/snapshots response. */
export const SnapshotListSchema = z.object({ items: z.array(SnapshotSchema) }).meta({ id: 'SnapshotList' });

/** POST /v1/sandboxes/:id/snapshots body. */
export const CreateSnapshotRequestSchema = z
  .strictObject({
    /** Keep its memory and processes too (microvm sandboxes created with egress "none"; 409 otherwise). Default false: files only. */
    memory: z.boolean().default(false),
  })
  .default({ memory: false });
/** POST /v1/sandboxes/:id/snapshots body (as sent). */
export type CreateSnapshotRequest = z.input<typeof CreateSnapshotRequestSchema>;

/** POST /v1/sandboxes/:id/fork body: how many copies. */
export const ForkSandboxRequestSchema = z.strictObject({
  /** Copies of its memory and processes too (as a snapshot with `memory`). Default false: of its files. */
  memory: z.boolean().optional(),
  count: z.number({ error: 'count must be a number of copies' }).int('count must be a whole number').min(1, 'count must be at least 1').max(50, 'count must be at most 50'),
});
