import type { Generated } from 'kysely';

/**
 * Kysely row types of the connector's own tables. Times are epoch milliseconds (BIGINT) in both
 * dialects; JSON is stored as text. The workspace tables (ServiceDesk_CL …) are declared in
 * src/workspace/tables.ts and created from there.
 */
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface WorkspacesTable {
  name: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  workspace: string;
  name: string;
  role: 'reader' | 'contributor';
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface ConnectionsTable {
  id: string;
  workspace: string;
  name: string;
  partner_type: string;
  server_url: string;
  client_id: string | null;
  /** AES-GCM envelope, AAD = `connection:<id>:clientSecret`. */
  client_secret_enc: string | null;
  /** AES-GCM envelope of the TokenSet JSON, AAD = `connection:<id>:tokens`. */
  tokens_enc: string | null;
  data_sync_scope: string; // JSON array
  sync_data_days: number;
  create_new_cis: number; // 0/1
  sync_interval_seconds: number;
  /** Refresh token lifetime set on this connection; NULL = the partner's default. */
  refresh_token_lifetime_s?: number | null;
  status: string; // Healthy | Degraded | Error | Pending
  last_error: string | null;
  last_sync_at: number | null;
  last_config_sync_at: number | null;
  configuration: string | null; // JSON PartnerConfiguration
  created_at: number;
  updated_at: number;
}

export interface ActionGroupsTable {
  id: string;
  workspace: string;
  name: string;
  short_name: string;
  enabled: number;
  receivers: string; // JSON
  webhook_secret_hash: string;
  webhook_secret_enc: string;
  created_at: number;
  updated_at: number;
}

export interface AlertsTable {
  id: string;
  workspace: string;
  action_group: string;
  /** Redelivery guard: hash of (action group, alert id, condition). */
  idempotency_key: string;
  family: string;
  alert_id: string;
  monitor_condition: string;
  payload: string;
  received_at: number;
}

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  /** Jobs with the same ordering key run one at a time, in id order (the dedup key of a work item). */
  ordering_key: string;
  /** Unique: a second enqueue with the same key is ignored. */
  dedupe_key: string;
  connection_id: string | null;
  payload: string;
  state: 'pending' | 'running' | 'done' | 'dead';
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_until: number | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  /** Workspace of the action group that enqueued the job (dead-letter lists are per workspace). Migration 4. */
  workspace: string | null;
}

export interface WorkItemLinksTable {
  dedup_key: string;
  workspace: string;
  connection_id: string;
  work_item_type: string;
  partner_id: string | null;
  number: string | null;
  state: string | null;
  closed: number;
  closed_at: number | null;
  correlation_key: string;
  last_alert_id: string | null;
  last_condition: string | null;
  last_note_at: number | null;
  pending_occurrences: number;
  cis: string; // JSON array
  created_at: number;
  updated_at: number;
  /** JSON of the rest of the grouping LinkState (generation, firing instances, seen events, folded occurrences). Migration 4. */
  decision_state: string | null;
  /** Action group id and receiver name that own the link. Migration 4. */
  action_group: string | null;
  receiver: string | null;
}

export interface SyncStateTable {
  connection_id: string;
  scope: string;
  watermark: string | null;
  cursor: string | null;
  backfill_done: number;
  last_run_at: number | null;
  last_error: string | null;
  records_synced: number;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  schema_migrations: SchemaMigrationsTable;
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  connections: ConnectionsTable;
  action_groups: ActionGroupsTable;
  alerts: AlertsTable;
  jobs: JobsTable;
  work_item_links: WorkItemLinksTable;
  sync_state: SyncStateTable;
  leases: LeasesTable;
}
