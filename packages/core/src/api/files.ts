/** Schemas of `/v1/sandboxes/:id/files` (read, write, list, remove). */
import { z } from 'zod';
import { BooleanQuerySchema, TimestampSchema } from './common.js';

/** Most bytes a single file upload or download carries: 100 MiB. */
export const MAX_FILE_BYTES = 104_857_600;

/** An absolute path inside the sandbox, ≤ 4096 chars. */
export const SandboxPathSchema = z
  .string({ error: 'path is required: an absolute path inside the sandbox, e.g. ?path=/tmp/a.txt' })
  .min(1)
  .max(4096, 'path must be at most 4096 characters')
  .regex(/^\//, 'path must be absolute (start with /)')
  .refine((p) => !p.includes('\0'), 'path must not contain NUL');

/** Query of GET/PUT-less file reads and listings. */
export const FilePathQuerySchema = z.strictObject({ path: SandboxPathSchema });

/** PUT /v1/sandboxes/:id/files query: `mode` in octal (e.g. `755`), default 644. */
export const FileWriteQuerySchema = z.strictObject({
  path: SandboxPathSchema,
  mode: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, 'mode must be octal permission bits, e.g. 644 or 0755')
    .optional(),
});

/** DELETE /v1/sandboxes/:id/files query. */
export const FileRemoveQuerySchema = z.strictObject({
  path: SandboxPathSchema,
  /** Required to remove a directory. */
  recursive: BooleanQuerySchema.optional(),
});

/** A file or directory inside a sandbox. */
export const FileEntrySchema = z
  .object({
    name: z.string(),
    path: z.string(),
    type: z.enum(['file', 'dir', 'symlink', 'other']),
    sizeBytes: z.number(),
    /** Permission bits as a number (e.g. 420 = 0o644). */
    mode: z.number(),
    modifiedAt: TimestampSchema,
  })
  .meta({ id: 'FileEntry' });
/** A file or directory inside a sandbox. */
export type FileEntry = z.infer<typeof FileEntrySchema>;

/** GET /v1/sandboxes/:id/files/list response. */
export const FileListResponseSchema = z
  .object({ items: z.array(FileEntrySchema) })
  .meta({ id: 'FileList' });
/** GET /v1/sandboxes/:id/files/list response. */
export type FileListResponse = z.infer<typeof FileListResponseSchema>;
