/**
 * The partner caller: every call the delivery engine makes to a partner goes through here. Per connection it
 * keeps one client (rebuilt when the stored credentials or tokens change), one gate (concurrency, adaptive
 * token bucket, circuit breaker) and the CI lookups (single flight, cached, fenced across processes). It
 * counts calls, classifies failures for the gate and records a connection as healthy again after a success.
 */
import { PartnerError, type PartnerClient } from '../partners/partner.ts';
import type { Store } from '../store/store.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import type { ConnectionService } from '../connections/service.ts';
import { ConnectionGate, type GateEvent, type GateOptions } from './gate.ts';
import { CiResolver, defaultCiResolverOptions } from './ci-resolver.ts';
import { errorText } from './failure-policy.ts';
import { connectorLogRow } from './log-rows.ts';
import { ConnectionBlocked, type Ctx } from './run-types.ts';

export interface PartnerCallerOptions {
  workerId: string;
  gate: GateOptions;
  /** How long a connection whose sign-in failed is left alone before the next try. */
  authPauseMs: number;
  /** How long a CI lookup result is reused. */
  ciCacheMs: number;
}

export interface CallStats {
  /** Partner calls made (each PartnerClient method call), by operation. */
  calls: Record<string, number>;
  partnerCalls: number;
  callFailures: number;
}

type Logger = (level: 'info' | 'warn' | 'error', message: string, err?: unknown) => void;

export class PartnerCaller {
  private readonly gates = new Map<string, ConnectionGate>();
  private readonly clients = new Map<string, { key: string; client: PartnerClient }>();
  private readonly cis: CiResolver;

  constructor(
    private readonly store: Store,
    private readonly connections: ConnectionService,
    private readonly options: PartnerCallerOptions,
    readonly stats: CallStats,
    private readonly logger: Logger,
  ) {
    this.cis = new CiResolver(store.leases, options.workerId, { ...defaultCiResolverOptions, cacheMs: options.ciCacheMs });
  }

  /** The connection's client; a new sign-in (the user entered the password again) replaces the tokens, so a new client picks them up. */
  async client(conn: ConnectionsTable): Promise<PartnerClient> {
    const key = `${conn.server_url}\u0000${conn.client_id}\u0000${conn.client_secret_enc}\u0000${conn.partner_type}\u0000${conn.tokens_enc}`;
    const hit = this.clients.get(conn.id);
    if (hit && hit.key === key) return hit.client;
    const client = await this.connections.client(conn);
    this.clients.set(conn.id, { key, client });
    return client;
  }

  gate(conn: ConnectionsTable): ConnectionGate {
    let gate = this.gates.get(conn.id);
    if (!gate) {
      gate = new ConnectionGate(this.options.gate, (e) => void this.onGateEvent(conn, e));
      this.gates.set(conn.id, gate);
    }
    return gate;
  }

  /** The gate of a connection, if it was ever called (tests and metrics read its breaker state). */
  gateOf(connectionId: string): ConnectionGate | undefined {
    return this.gates.get(connectionId);
  }

  /** The connection works again: its pauses end and its breaker closes. */
  resume(connectionId: string): void {
    this.gates.get(connectionId)?.resume();
  }

  /**
   * How many more keys each known connection may take now (`busy` = keys in flight per connection), and the
   * connections not to claim for at all (paused, breaker open, or full).
   */
  slots(busy: Map<string, number>, now = Date.now()): { exclude: string[]; slots: Map<string, number> } {
    const exclude: string[] = [];
    const slots = new Map<string, number>();
    for (const id of new Set([...this.gates.keys(), ...busy.keys()])) {
      const gate = this.gates.get(id);
      const running = busy.get(id) ?? 0;
      let free = this.keysPerConnection() - running;
      if (gate) {
        if (gate.blockedUntil(now) > now) free = 0;
        else if (gate.breaker === 'half-open') free = running === 0 ? 1 : 0;
      }
      if (free <= 0) {
        if (id !== '') exclude.push(id);
        slots.set(id, 0);
      } else slots.set(id, free);
    }
    return { exclude, slots };
  }

  /**
   * Keys worked on at once per connection: twice the calls its gate lets through. A key reads its link and alerts
   * before it calls and commits after; meanwhile another key's call can use the slot. With one key per call slot,
   * a slot freed by a finished key stayed idle until the next claim (on PostgreSQL, five statements away).
   */
  keysPerConnection(): number {
    return this.options.gate.concurrency * 2;
  }

  /** One partner call through the connection's gate; classifies the outcome for the gate. */
  async call<T>(ctx: Ctx, op: string, fn: () => Promise<T>): Promise<T> {
    if (!(await ctx.gate.acquire())) throw new ConnectionBlocked(ctx.gate.blockedUntil() || Date.now() + 1000);
    this.stats.calls[op] = (this.stats.calls[op] ?? 0) + 1;
    this.stats.partnerCalls += 1;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.stats.callFailures += 1;
      this.classifyFailure(ctx.gate, err);
      throw err;
    }
    ctx.gate.success();
    if (ctx.conn.status !== 'Healthy') await this.markHealthy(ctx);
    return result;
  }

  /** Partner ids of CIs by name: looked up (and created when the connection allows it) once per name, cached. */
  async resolveCis(ctx: Ctx, names: string[]): Promise<string[]> {
    const ids: string[] = [];
    const allowCreate = ctx.conn.create_new_cis === 1;
    for (const name of names.slice(0, 50)) {
      const id = await this.cis.resolve(ctx.conn.id, name, allowCreate, async () => {
        try {
          return (await this.call(ctx, 'findOrCreateCi', () => ctx.client.findOrCreateCi(name, allowCreate)))?.id ?? null;
        } catch (err) {
          // A CI name the partner cannot take is skipped; the work item is still created.
          if (err instanceof PartnerError && err.kind === 'invalid') return null;
          throw err;
        }
      });
      if (id) ids.push(id);
    }
    return [...new Set(ids)];
  }

  private classifyFailure(gate: ConnectionGate, err: unknown): void {
    if (!(err instanceof PartnerError)) return gate.failure(errorText(err));
    if (err.kind === 'rate-limited') gate.rateLimited(err.details.retryAfterMs);
    else if (err.kind === 'unavailable' || err.kind === 'protocol') gate.failure(err.message);
    else if (err.kind === 'auth') gate.pause(this.options.authPauseMs);
    // The partner answered (e.g. invalid input): the connection itself is fine.
    else gate.success();
  }

  private async markHealthy(ctx: Ctx): Promise<void> {
    const before = ctx.conn.status;
    ctx.conn = { ...ctx.conn, status: 'Healthy', last_error: null };
    try {
      await this.store.connections.update(ctx.conn.id, { status: 'Healthy', last_error: null });
      await this.store.workspaceLog.appendLogs([
        connectorLogRow(ctx.group.workspace, ctx.conn, 'INFO', `connection ${ctx.conn.name} is healthy again (was ${before}): delivery succeeded`),
      ]);
    } catch (err) {
      this.logger('warn', 'recording the connection status failed', err);
    }
  }

  private async onGateEvent(conn: ConnectionsTable, e: GateEvent): Promise<void> {
    try {
      const fresh = (await this.store.connections.getById(conn.id)) ?? conn;
      if (e.kind === 'circuit-opened') await this.connections.recordFailure(fresh, new PartnerError('unavailable', e.message));
      await this.store.workspaceLog.appendLogs([
        connectorLogRow(conn.workspace, fresh, e.kind === 'circuit-closed' ? 'INFO' : 'WARNING', `connection ${conn.name}: ${e.message}`),
      ]);
    } catch (err) {
      this.logger('warn', 'writing a connection event failed', err);
    }
  }
}
