/**
 * The partner contract: one set of tests of the PartnerClient interface, run against every registered
 * partner that has a client and a sandbox, over real HTTP. It is the acceptance suite of a new partner:
 * add the descriptor (with its sandbox section) to the registry and these tests run against it.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { partners } from '../../src/partners/registry.ts';
import type { PartnerDescriptor, RunningSandbox, SandboxSection } from '../../src/partners/descriptor.ts';
import { PartnerError, type PartnerClient, type PartnerContext, type TokenSet, type WorkItemInput, type WorkItemRef } from '../../src/partners/partner.ts';

type Testable = PartnerDescriptor & { create: NonNullable<PartnerDescriptor['create']>; sandbox: SandboxSection };

const testable = (partners as readonly PartnerDescriptor[]).filter((p): p is Testable => !!p.create && !!p.sandbox);

function memoryVault(): PartnerContext['tokens'] & { tokens: TokenSet | null } {
  const vault = {
    tokens: null as TokenSet | null,
    async load() {
      return vault.tokens;
    },
    async save(t: TokenSet) {
      vault.tokens = t;
    },
  };
  return vault;
}

function isPartnerError(kind: PartnerError['kind']) {
  return (err: unknown) => {
    assert.ok(err instanceof PartnerError, `expected a PartnerError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return true;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const partner of testable) {
  describe(`partner contract: ${partner.displayName}`, () => {
    let sandbox: RunningSandbox;
    let client: PartnerClient;
    let run = 0;
    const key = (what: string) => `contract-${what}-${process.pid}-${++run}`;
    const incident = (correlationKey: string, title = `contract ${correlationKey}`): WorkItemInput => ({
      type: 'Incident',
      correlationKey,
      title,
      description: 'created by the partner contract suite',
      fields: {},
      ciIds: [],
    });
    const newClient = (timeoutMs = 10_000): PartnerClient =>
      partner.create({ credentials: partner.sandbox.credentials(sandbox.url), tokens: memoryVault(), timeoutMs });

    before(async () => {
      sandbox = await partner.sandbox.start({ host: '127.0.0.1', port: 0, seed: 7, days: 5, size: 'small' });
      client = newClient();
      await client.authenticate();
    });
    after(async () => sandbox.close());
    afterEach(async () => sandbox.faults.reset());

    it('signs in and hands out an access token', async () => {
      const tokens = await newClient().authenticate();
      assert.ok(tokens.accessToken.length > 0);
      assert.ok(tokens.accessExpiresAt > Date.now());
    });

    it('creates an incident that is open and found again by its correlation key', async () => {
      const k = key('create');
      const ref = await client.createWorkItem(incident(k));
      assert.equal(ref.type, 'Incident');
      assert.ok(ref.id && ref.number);
      assert.equal(ref.closed, false);
      const found = await client.findByCorrelationKey('Incident', k);
      assert.equal(found?.id, ref.id);
    });

    it('finds nothing for a correlation key it never saw', async () => {
      assert.equal(await client.findByCorrelationKey('Incident', key('never')), null);
    });

    it('updates with a note, resolves and reopens', async () => {
      const ref = await client.createWorkItem(incident(key('lifecycle')));
      const updated = await client.updateWorkItem(ref, 'a note from the contract suite');
      assert.equal(updated.id, ref.id);
      assert.equal(updated.closed, false);
      const resolved = await client.resolveWorkItem(ref, {}, 'resolved by the contract suite');
      assert.equal(resolved.id, ref.id);
      assert.equal(resolved.closed, true);
      const reopened = await client.reopenWorkItem(resolved, 'it fired again');
      assert.equal(reopened.id, ref.id);
      assert.equal(reopened.closed, false);
    });

    it('finds a CI only when allowed to create it, and creates it once', async () => {
      const name = key('ci');
      assert.equal(await client.findOrCreateCi(name, false), null);
      const created = await client.findOrCreateCi(name, true);
      assert.equal(created?.created, true);
      const again = await client.findOrCreateCi(name, true);
      assert.equal(again?.id, created?.id);
      assert.equal(again?.created, false);
    });

    it('reads its configuration: templates and choice lists', async () => {
      const config = await client.readConfiguration();
      assert.ok(Array.isArray(config.templates) && Array.isArray(config.choices));
      assert.ok(config.choices.length > 0, 'choice lists are what action validation checks against');
      for (const c of config.choices.slice(0, 50)) assert.ok(typeof c.table === 'string' && typeof c.field === 'string' && typeof c.value === 'string');
    });

    it('pages through changes without losing a record that changes between pages', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const refs: WorkItemRef[] = [];
      for (let i = 0; i < 5; i++) refs.push(await client.createWorkItem(incident(key('page'))));
      const ours = new Set(refs.map((r) => r.id));
      const first = await client.listChangedSince('Incident', since, undefined, 2);
      assert.ok(first.next, 'more than one page');
      // Partners stamp changes to the second: make the change land in a later second than the creations.
      await sleep(1100);
      const moved = first.records.find((r) => ours.has(r.id)) ?? { id: refs[0].id, updatedAt: since };
      await client.updateWorkItem(
        refs.find((r) => r.id === moved.id)!,
        'changed between pages',
      );
      const seen = new Map<string, string[]>();
      for (const r of first.records) seen.set(r.id, [...(seen.get(r.id) ?? []), r.updatedAt]);
      let cursor: string | undefined = first.next;
      for (let pages = 0; cursor && pages < 1000; pages++) {
        const page = await client.listChangedSince('Incident', since, cursor, 2);
        for (const r of page.records) {
          assert.equal(r.scope, 'Incident');
          seen.set(r.id, [...(seen.get(r.id) ?? []), r.updatedAt]);
        }
        cursor = page.next;
      }
      assert.equal(cursor, undefined, 'paging ends');
      for (const id of ours) assert.ok(seen.has(id), `record ${id} was not skipped`);
      const times = seen.get(moved.id)!;
      assert.ok(Date.parse(times[times.length - 1]) > Date.parse(moved.updatedAt), 'the changed record is read again in its newer version');
    });

    it('maps changed records onto the ServiceDesk_CL columns its descriptor declares', async () => {
      const page = await client.listChangedSince('Incident', new Date(Date.now() - 86_400_000).toISOString(), undefined, 5);
      assert.ok(page.records.length > 0);
      const declared = new Set(partner.serviceDesk.columns);
      for (const r of page.records) for (const column of Object.keys(r.row)) assert.ok(declared.has(column), `${column} is declared`);
    });

    it('renews an expired access token once and carries on', async () => {
      const c = newClient();
      await c.authenticate();
      await sandbox.faults.expireAccessTokens();
      assert.equal(await c.findByCorrelationKey('Incident', key('after-expiry')), null);
    });

    it("reports 429 as rate-limited with the partner's Retry-After, then works again", async () => {
      await sandbox.faults.failNext(429, 1, 3);
      await assert.rejects(client.findByCorrelationKey('Incident', key('429')), (err) => {
        isPartnerError('rate-limited')(err);
        assert.equal((err as PartnerError).details.retryAfterMs, 3000);
        return true;
      });
      assert.equal(await client.findByCorrelationKey('Incident', key('429-after')), null);
    });

    it('reports 5xx as retryable unavailable, and a failed create leaves nothing a retry could duplicate', async () => {
      const k = key('503');
      await sandbox.faults.failNext(503, 1);
      await assert.rejects(client.createWorkItem(incident(k)), (err) => {
        isPartnerError('unavailable')(err);
        assert.equal((err as PartnerError).retryable, true);
        return true;
      });
      assert.equal(await client.findByCorrelationKey('Incident', k), null);
    });

    it('reports a partner that does not answer in time as unavailable', async () => {
      const slow = newClient(300);
      await slow.authenticate();
      await sandbox.faults.delay(3000);
      await assert.rejects(slow.findByCorrelationKey('Incident', key('timeout')), isPartnerError('unavailable'));
    });
  });
}

describe('partner contract coverage', () => {
  it('runs against every registered partner that has a client and a sandbox', () => {
    assert.ok(testable.length >= 1);
    for (const p of partners as readonly PartnerDescriptor[]) if (p.create) assert.ok(p.sandbox, `${p.type} has a client but no sandbox to test it against`);
  });
});
