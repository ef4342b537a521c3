import type { ServiceDeskRow } from '../workspace/tables.ts';

/**
 * The one narrow interface every ITSM product implements. The delivery engine, the sync engine and the
 * connection lifecycle only ever see this; partner specifics stay in src/partners/<name>/.
 * No method retries a create in-process: failures are thrown as PartnerError and the durable queue decides.
 */
export type WorkItemType = 'Incident' | 'Event' | 'Alert';
export type SyncScope = 'Incident' | 'ChangeRequest';

export type PartnerErrorKind =
  | 'auth' // bad credentials, revoked or expired refresh token: needs a human
  | 'forbidden' // authenticated but not allowed (ACL, missing role)
  | 'rate-limited' // 429: retryAfterMs says when
  | 'unavailable' // 5xx, timeout, connection refused, hibernating instance: retry later
  | 'not-found'
  | 'invalid' // the partner rejected our data (400): retrying will not help
  | 'protocol'; // the answer is not what this partner sends (wrong product, HTML page)

export class PartnerError extends Error {
  constructor(
    readonly kind: PartnerErrorKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; cause?: string } = {},
  ) {
    super(message);
    this.name = 'PartnerError';
  }
  get retryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'unavailable';
  }
}

/** What we send to create or update a work item. Fields are partner field names (already mapped). */
export interface WorkItemInput {
  type: WorkItemType;
  /** Written into the partner record (ServiceNow correlation_id / message_key) so a retry can find it. */
  correlationKey: string;
  title: string;
  description: string;
  /** Extra partner fields: template values, impact/urgency, category … */
  fields: Record<string, string>;
  /** Partner template to apply, when the action uses one. */
  templateName?: string;
  /** Partner ids of CIs to link (from findOrCreateCi). */
  ciIds: string[];
  /** Severity for Event/Alert types, partner scale (ServiceNow 0 clear … 5 info). */
  eventSeverity?: string;
  /** Names of the CIs (same order as ciIds), for partners that address an event by host name. */
  ciNames?: string[];
  /** The component the alert is about (resource id tail, instance), for Event/Alert types. */
  resource?: string;
}

export interface WorkItemRef {
  type: WorkItemType;
  /** Partner's primary key (ServiceNow sys_id). */
  id: string;
  /** What a human sees (INC0010001). */
  number: string;
  /** Partner state as a string (ServiceNow state value). */
  state: string;
  /** True when the partner considers it resolved or closed. */
  closed: boolean;
  /** When it was resolved or closed in the partner, ISO UTC, when the partner said. */
  closedAt?: string;
  url?: string;
}

export interface ResolveInput {
  state?: string;
  closeCode?: string;
  closeNotes?: string;
}

export interface CiRef {
  id: string;
  name: string;
  className?: string;
  created: boolean;
}

export interface PartnerTemplate {
  name: string;
  table: string;
  /** Field → value the template sets. */
  fields: Record<string, string>;
}

export interface ChoiceEntry {
  table: string;
  field: string;
  value: string;
  label: string;
}

/** The fields a work item table has (inherited ones included). */
export interface TableFields {
  table: string;
  fields: string[];
}

export interface PartnerConfiguration {
  templates: PartnerTemplate[];
  choices: ChoiceEntry[];
  /** Field names per work item table, when the partner lets the integration user read them. */
  fields?: TableFields[];
}

/** A synced record: partner-neutral keys are mapped to ServiceDesk_CL by the partner's mapping. */
export interface ChangedRecord {
  scope: SyncScope;
  id: string;
  /** Last-modified time, ISO 8601 UTC, used as the watermark. */
  updatedAt: string;
  /** ServiceDesk_CL columns (without TimeGenerated and connection name) for this record. */
  row: ServiceDeskRow;
}

export interface ChangedPage {
  records: ChangedRecord[];
  /** Opaque cursor for the next page, absent when this was the last page. */
  next?: string;
}

export interface TokenSet {
  accessToken: string;
  accessExpiresAt: number; // epoch ms
  refreshToken?: string;
  refreshExpiresAt?: number; // epoch ms
  /** When the current refresh token was issued (epoch ms), so a changed lifetime can re-date it. */
  refreshIssuedAt?: number;
}

/** Credentials as the user entered them. Password is used once to obtain tokens and then dropped. */
export interface PartnerCredentials {
  serverUrl: string;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface PartnerClient {
  /** Obtain tokens (first login, or after a revoked refresh token when the user re-enters the password). */
  authenticate(): Promise<TokenSet>;
  createWorkItem(input: WorkItemInput): Promise<WorkItemRef>;
  /**
   * Adds a note / fields / CIs to an open work item. When the partner has it resolved or closed (a human closed
   * it), nothing is written and the returned ref says `closed` (with `closedAt`): the caller decides again.
   */
  updateWorkItem(ref: WorkItemRef, note: string, fields?: Record<string, string>, ciIds?: string[]): Promise<WorkItemRef>;
  resolveWorkItem(ref: WorkItemRef, how: ResolveInput, note: string): Promise<WorkItemRef>;
  reopenWorkItem(ref: WorkItemRef, note: string): Promise<WorkItemRef>;
  /** Idempotency lookup before any retried create. */
  findByCorrelationKey(type: WorkItemType, correlationKey: string): Promise<WorkItemRef | null>;
  findOrCreateCi(name: string, allowCreate: boolean): Promise<CiRef | null>;
  readConfiguration(): Promise<PartnerConfiguration>;
  /** Records of a scope changed at or after `since` (ISO UTC), in stable order (updatedAt, id). */
  listChangedSince(scope: SyncScope, since: string, cursor?: string, pageSize?: number): Promise<ChangedPage>;
}

/** Where a client keeps its tokens between calls; the store encrypts them at rest. */
export interface TokenVault {
  load(): Promise<TokenSet | null>;
  save(tokens: TokenSet): Promise<void>;
}

export interface PartnerContext {
  credentials: PartnerCredentials;
  tokens: TokenVault;
  /** Per-request timeout; a request that takes longer is an `unavailable` PartnerError. */
  timeoutMs?: number;
  /** Called with every HTTP status the partner returns (metrics) and every 429 wait. */
  onResponse?: (info: { method: string; path: string; status: number; ms: number }) => void;
  /**
   * Checked against every address the client actually connects to (after DNS): a message refuses the
   * connection (SSRF guard, DNS rebinding). Absent = no check (tests against local emulators).
   */
  addressGuard?: AddressGuard;
}

/** Returns why `address` (resolved for `host`) may not be connected to, or null when it may. */
export type AddressGuard = (host: string, address: string) => string | null;

/** How long the partner's text fields are; titles and notes are fitted to them on character boundaries. */
export interface FieldLimits {
  titleMax: number;
  descriptionMax: number;
  /** One work note or close note. */
  noteMax: number;
  /** How the partner counts length (default utf16, as Java and JavaScript strings do). */
  unit?: 'utf16' | 'codepoint' | 'utf8';
}
