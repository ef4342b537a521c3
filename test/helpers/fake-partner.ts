/**
 * An in-memory PartnerClient for fast unit tests of the delivery and sync engines. It keeps work items,
 * CIs and a change log, records every call, and injects the failures the contract suite checks real
 * partners for (status failures, timeouts, token expiry). Integration tests keep using real sandboxes.
 */
import {
  PartnerError,
  type ChangedPage,
  type ChangedRecord,
  type CiRef,
  type PartnerClient,
  type PartnerConfiguration,
  type ResolveInput,
  type SyncScope,
  type TokenSet,
  type WorkItemInput,
  type WorkItemRef,
  type WorkItemType,
} from '../../src/partners/partner.ts';
import type { ConnectionsTable } from '../../src/store/schema.ts';

interface FakeItem {
  ref: WorkItemRef;
  scope: SyncScope;
  correlationKey: string;
  title: string;
  notes: string[];
  fields: Record<string, string>;
  updatedAt: string;
}

export interface FakeCall {
  op: string;
  id?: string;
  correlationKey?: string;
  note?: string;
}

function kindOf(status: number): PartnerError['kind'] {
  if (status === 401) return 'auth';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'unavailable';
  return 'invalid';
}

export class FakePartner implements PartnerClient {
  readonly items = new Map<string, FakeItem>();
  readonly cis = new Map<string, CiRef>();
  readonly calls: FakeCall[] = [];
  configuration: PartnerConfiguration = { templates: [], choices: [{ table: 'incident', field: 'impact', value: '1', label: '1 - High' }] };
  private failures: { status: number; retryAfterSeconds?: number }[] = [];
  private seq = 0;
  /** Milliseconds added to every change time: lets a test move the partner's clock. */
  clockSkewMs = 0;

  /** The next `count` calls fail as the partner answering `status` would. */
  failNext(status: number, count = 1, retryAfterSeconds?: number): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, retryAfterSeconds });
  }

  /** Work items of a type, in creation order. */
  list(type: WorkItemType = 'Incident'): FakeItem[] {
    return [...this.items.values()].filter((i) => i.ref.type === type);
  }

  private gate(op: string, extra: Omit<FakeCall, 'op'> = {}): void {
    this.calls.push({ op, ...extra });
    const f = this.failures.shift();
    if (!f) return;
    const retryAfterMs = f.retryAfterSeconds === undefined ? undefined : f.retryAfterSeconds * 1000;
    throw new PartnerError(kindOf(f.status), `fake partner answered ${f.status} to ${op}`, { status: f.status, retryAfterMs });
  }

  private now(): string {
    return new Date(Date.now() + this.clockSkewMs).toISOString();
  }

  private touch(item: FakeItem, patch: Partial<WorkItemRef>, note?: string): WorkItemRef {
    item.ref = { ...item.ref, ...patch };
    if (note) item.notes.push(note);
    item.updatedAt = this.now();
    return { ...item.ref };
  }

  private require(ref: WorkItemRef): FakeItem {
    const item = this.items.get(ref.id);
    if (!item) throw new PartnerError('not-found', `no work item ${ref.id}`, { status: 404 });
    return item;
  }

  async authenticate(): Promise<TokenSet> {
    this.gate('authenticate');
    return { accessToken: 'fake', accessExpiresAt: Date.now() + 3_600_000 };
  }

  async createWorkItem(input: WorkItemInput): Promise<WorkItemRef> {
    this.gate('create', { correlationKey: input.correlationKey });
    const n = ++this.seq;
    const ref: WorkItemRef = { type: input.type, id: `fake-${n}`, number: `INC${String(n).padStart(7, '0')}`, state: '1', closed: false };
    this.items.set(ref.id, {
      ref,
      scope: 'Incident',
      correlationKey: input.correlationKey,
      title: input.title,
      notes: [],
      fields: { ...input.fields },
      updatedAt: this.now(),
    });
    return { ...ref };
  }

  async updateWorkItem(ref: WorkItemRef, note: string, fields: Record<string, string> = {}): Promise<WorkItemRef> {
    this.gate('update', { id: ref.id, note });
    const item = this.require(ref);
    Object.assign(item.fields, fields);
    return this.touch(item, {}, note);
  }

  async resolveWorkItem(ref: WorkItemRef, how: ResolveInput, note: string): Promise<WorkItemRef> {
    this.gate('resolve', { id: ref.id, note });
    return this.touch(this.require(ref), { state: how.state ?? '6', closed: true }, note);
  }

  async reopenWorkItem(ref: WorkItemRef, note: string): Promise<WorkItemRef> {
    this.gate('reopen', { id: ref.id, note });
    return this.touch(this.require(ref), { state: '2', closed: false }, note);
  }

  async findByCorrelationKey(type: WorkItemType, correlationKey: string): Promise<WorkItemRef | null> {
    this.gate('find', { correlationKey });
    const item = [...this.items.values()].find((i) => i.ref.type === type && i.correlationKey === correlationKey);
    return item ? { ...item.ref } : null;
  }

  async findOrCreateCi(name: string, allowCreate: boolean): Promise<CiRef | null> {
    this.gate('ci');
    const existing = this.cis.get(name.toLowerCase());
    if (existing) return { ...existing, created: false };
    if (!allowCreate) return null;
    const ci = { id: `ci-${this.cis.size + 1}`, name, created: true };
    this.cis.set(name.toLowerCase(), ci);
    return ci;
  }

  async readConfiguration(): Promise<PartnerConfiguration> {
    this.gate('configuration');
    return structuredClone(this.configuration);
  }

  /** Keyset paging on (updatedAt, id), as the real clients page. */
  async listChangedSince(scope: SyncScope, since: string, cursor?: string, pageSize = 100): Promise<ChangedPage> {
    this.gate('list');
    const [afterAt, afterId] = cursor ? (JSON.parse(cursor) as [string, string]) : [since, ''];
    const rows = [...this.items.values()]
      .filter((i) => i.scope === scope && (cursor ? i.updatedAt > afterAt || (i.updatedAt === afterAt && i.ref.id > afterId) : i.updatedAt >= since))
      .sort((a, b) => (a.updatedAt === b.updatedAt ? (a.ref.id < b.ref.id ? -1 : 1) : a.updatedAt < b.updatedAt ? -1 : 1));
    const page = rows.slice(0, pageSize);
    const records: ChangedRecord[] = page.map((i) => ({
      scope,
      id: i.ref.id,
      updatedAt: i.updatedAt,
      row: {
        ServiceDeskWorkItemType_s: scope,
        ServiceDeskId_s: i.ref.number,
        Title_s: i.title,
        IncidentState_s: i.ref.closed ? 'Resolved' : 'New',
        LastModifiedDate_t: i.updatedAt,
      },
    }));
    const last = page[page.length - 1];
    return { records, ...(rows.length > pageSize && last ? { next: JSON.stringify([last.updatedAt, last.ref.id]) } : {}) };
  }

  /** A record changed in the partner by someone else (a human in the ITSM tool). */
  changeByHand(id: string, patch: Partial<WorkItemRef> = {}): void {
    const item = this.items.get(id);
    if (item) this.touch(item, patch);
  }
}

/** A stored connection `fake` (ServiceNow's descriptor supplies limits and scales) for engines run over the fake. */
export function fakeConnectionRow(configuration: PartnerConfiguration | null = null): ConnectionsTable {
  const now = Date.now();
  return {
    id: 'conn-fake',
    workspace: 'default',
    name: 'fake',
    partner_type: 'ServiceNow',
    server_url: 'https://fake.service-now.com',
    client_id: 'c',
    client_secret_enc: null,
    tokens_enc: null,
    data_sync_scope: '["Incident"]',
    sync_data_days: 30,
    create_new_cis: 1,
    sync_interval_seconds: 300,
    status: 'Healthy',
    last_error: null,
    last_sync_at: null,
    last_config_sync_at: configuration ? now : null,
    configuration: configuration ? JSON.stringify(configuration) : null,
    created_at: now,
    updated_at: now,
  };
}
