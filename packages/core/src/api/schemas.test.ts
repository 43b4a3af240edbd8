import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  AgentMessageSchema,
  CreateSandboxRequestSchema,
  ExecRequestSchema,
  SubmitRunRequestSchema,
  FileRemoveQuerySchema,
} from '../index.js';

test('defaults fill a minimal sandbox request', () => {
  const r = CreateSandboxRequestSchema.parse({});
  assert.equal(r.template, 'busybox');
  assert.equal(r.runtime, 'container');
  assert.equal(r.timeoutMs, 300_000);
});

test('exactly one of argv and command, with a message naming both', () => {
  for (const bad of [{}, { argv: ['a'], command: 'a' }]) {
    const r = ExecRequestSchema.safeParse(bad);
    assert.equal(r.success, false);
    assert.match(r.error?.issues[0]?.message ?? '', /argv.*command/);
  }
  assert.equal(SubmitRunRequestSchema.safeParse({ command: 'echo hi' }).success, true);
});

test('unknown fields and wrong types are rejected', () => {
  assert.equal(SubmitRunRequestSchema.safeParse({ command: 'x', bogus: 1 }).success, false);
  assert.equal(SubmitRunRequestSchema.safeParse({ command: 'x', timeoutMs: '5' }).success, false);
  assert.equal(FileRemoveQuerySchema.safeParse({ path: 'rel' }).success, false);
  assert.equal(FileRemoveQuerySchema.parse({ path: '/a', recursive: 'true' }).recursive, true);
});

test('agent messages are discriminated by type', () => {
  assert.equal(AgentMessageSchema.safeParse({ type: 'heartbeat', runs: [] }).success, true);
  assert.equal(AgentMessageSchema.safeParse({ type: 'nope' }).success, false);
});

test('request schemas convert to JSON Schema for the OpenAPI document', () => {
  for (const s of [
    CreateSandboxRequestSchema,
    ExecRequestSchema,
    SubmitRunRequestSchema,
    FileRemoveQuerySchema,
  ]) {
    assert.equal(typeof z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }), 'object');
  }
});
