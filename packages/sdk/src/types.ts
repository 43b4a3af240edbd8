/**
 * The API's request and response types, inferred from the zod schemas in `@tartarus/core` that the
 * server validates with — one definition for both sides, never a second copy here.
 */
export type {
  AccessToken,
  PortUrl,
  ApiKey,
  AuditEntry,
  CreateApiKeyRequest,
  CreateNetworkPolicyRequest,
  Egress,
  NetworkPolicy,
  CreateSandboxRequest,
  CreateTemplateRequest,
  CreateTenantRequest,
  CreatedApiKey,
  CreatedNodeToken,
  ExecRequest,
  ExecResult,
  ExitReason,
  FileEntry,
  Limits,
  Node,
  NodeToken,
  Pool,
  PoolInterval,
  PoolList,
  Snapshot,
  OutputData,
  PatchTenantRequest,
  PutRegistryCredentialsRequest,
  RegistryCredential,
  Role,
  Run,
  RunAttempt,
  RunLogEntry,
  RunStateName,
  Sandbox as SandboxInfo,
  SandboxStateName,
  SubmitRunRequest,
  Template,
  TemplateConfig,
  TemplateProgress,
  TemplateSource,
  TemplateStatus,
  Tenant,
  UsageFigures,
  Deployment,
  DeploymentRun,
  TriggerResult,
  Secret,
  Event,
  EventPage,
  EventType,
  UsageGroup,
  UsageQuery,
  UsageReport,
  UsageRow,
  Webhook,
  CreatedWebhook,
  CreateWebhookRequest,
  PatchWebhookRequest,
  WebhookDelivery,
  WebhookDeliveryPage,
  LogLine,
  LogPage,
  LogSearchQuery,
  LogSource,
} from '@tartarus/core';

/** One page of a listing; pass `nextCursor` back as `cursor` for the next (null: last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Options of every listing. */
export interface ListOptions {
  /** Page size, 1..500 (server default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}
