/**
 * A partner is one descriptor: everything the generic connector needs to know about an ITSM product
 * (its connection form, server URL rule, work item types, severity scales, field limits, token lifetimes,
 * how its templates and choice lists are matched, its ServiceDesk_CL mapping and its sandbox) beside the
 * factory of its `PartnerClient`. Generic code reads descriptors from the registry and never names a partner.
 */
import type { AlertSeverity, MonitorCondition } from '../core/alert.ts';
import type { FieldLimits, PartnerClient, PartnerContext, PartnerCredentials, SyncScope, WorkItemType } from './partner.ts';

/** The credential columns a connection stores; a partner's form uses some of them. */
export type ConnectionFieldName = 'serverUrl' | 'username' | 'password' | 'clientId' | 'clientSecret';

export interface ConnectionField {
  name: ConnectionFieldName;
  label: string;
  help: string;
  required: boolean;
  /** Secret fields are write-only: never returned, never logged, stored encrypted (or not at all). */
  secret: boolean;
  kind: 'url' | 'text' | 'password';
}

export interface ImpactUrgency {
  impact: string;
  urgency: string;
}
export type SeverityMapping = Record<AlertSeverity, ImpactUrgency>;

export interface SeverityScales {
  /** Sev → impact/urgency of an Incident when the action sets no severityMapping of its own. */
  defaultMapping: SeverityMapping;
  /** Severity of an Event or Alert work item on the partner's scale (only for partners that create them). */
  eventSeverity?(severity: AlertSeverity, condition: MonitorCondition): string;
}

export interface TokenLifetimes {
  /**
   * Refresh-token lifetime assumed when the token answer does not say (seconds). The connection stamps the
   * expiry with it to warn before re-entering the password is needed.
   */
  refreshSeconds: number;
}

export interface ConfigurationMatching {
  /** Whether a partner table (of a template or choice list) holds work items of `type`. */
  tableMatchesType(table: string, type: WorkItemType): boolean;
}

export interface ServiceDeskMapping {
  /** ServiceDesk_CL columns the partner's `listChangedSince` rows fill. */
  columns: readonly string[];
  /** True when the column mapping was checked against the product's documented fields. */
  verified: boolean;
}

/** What `PartnerDescriptor.sandbox.start` is given: the same for every partner's emulator. */
export interface SandboxStartOptions {
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  /** undefined = in memory; otherwise the emulator keeps its data below this directory. */
  dataDir?: string;
  seed?: number;
  /** Days of seeded history. */
  days?: number;
  /** `small`: a few dozen records, quick to seed (tests); default the full demo volume. */
  size?: 'small' | 'full';
  /** PEM contents; HTTPS when given. */
  tls?: { cert: string; key: string };
}

/** Run-time fault injection of a running emulator, the same for every partner (the contract suite uses it). */
export interface SandboxFaults {
  /** The next `count` partner API requests answer `status` (a 429 carries Retry-After: retryAfterSeconds). */
  failNext(status: number, count: number, retryAfterSeconds?: number): Promise<void>;
  /** Every partner API request waits `ms` before answering (0 = off). */
  delay(ms: number): Promise<void>;
  /** Access tokens issued so far stop working: the next API call answers 401. */
  expireAccessTokens(): Promise<void>;
  /** Back to no faults. */
  reset(): Promise<void>;
}

export interface RunningSandbox {
  url: string;
  port: number;
  faults: SandboxFaults;
  close(): Promise<void>;
}

export interface SandboxQuickStart {
  /** Port on 127.0.0.1 in the quick start … */
  defaultPort: number;
  /** … unless this environment variable names another. */
  portEnv: string;
  /** The action group the quick start creates, with one Incident action on the sandbox connection. */
  actionGroup: { name: string; action: string };
}

export interface SandboxSection {
  start(options: SandboxStartOptions): Promise<RunningSandbox>;
  /** Credentials of the emulator's seeded integration user (the quick start's connection, the contract suite). */
  credentials(url: string): PartnerCredentials;
  /** The refresh-token lifetime (seconds) the running emulator really issues to its seeded client, if it can say. */
  refreshTokenLifetime?(url: string): Promise<number | undefined>;
  quickStart: SandboxQuickStart;
  /** What `itsmc sandbox <partner>` prints after the URL: the seeded users and clients. */
  banner?: string;
}

export interface PartnerDescriptor<T extends string = string> {
  type: T;
  displayName: string;
  /** The connection form, in display order. */
  connectionFields: readonly ConnectionField[];
  /** Problem with the host of a server URL that is not allow-listed (e.g. the vendor's cloud domain), or null. */
  checkServerHost?(host: string): string | null;
  workItemTypes: readonly WorkItemType[];
  syncScopes: readonly SyncScope[];
  severity: SeverityScales;
  fieldLimits: FieldLimits;
  tokens: TokenLifetimes;
  configuration: ConfigurationMatching;
  serviceDesk: ServiceDeskMapping;
  /** Absent while only the connection form exists: connections are stored but cannot send or sync. */
  create?(ctx: PartnerContext): PartnerClient;
  /** The partner's emulator (quick start, `itsmc sandbox`, contract suite). */
  sandbox?: SandboxSection;
}

/** Name of the quick start's connection to a partner's sandbox (`servicenow-sandbox`). */
export function sandboxConnectionName(type: string): string {
  return `${type.toLowerCase()}-sandbox`;
}

/** Matching by substring (`System.WorkItem.Incident`, `Incident`, `em_event`): what a partner without its own rule gets. */
export function tableMatchesTypeBySubstring(table: string, type: WorkItemType): boolean {
  const t = table.toLowerCase();
  if (type === 'Incident') return t.includes('incident');
  if (type === 'Event') return t.includes('event');
  return t.includes('alert') && !t.includes('event');
}
