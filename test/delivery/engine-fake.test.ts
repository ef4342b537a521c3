/**
 * Fast unit tests of the delivery engine over the in-memory fake partner (real SQLite store, real queue).
 * The integration tests (e2e, chaos, crash) run the same engine against the real ServiceNow sandbox.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActionGroupService } from '../../src/actiongroups/service.ts';
import { ConnectionService } from '../../src/connections/service.ts';
import { DeliveryEngine } from '../../src/delivery/engine.ts';
import { IngestService } from '../../src/delivery/ingest.ts';
import type { PartnerClient } from '../../src/partners/partner.ts';
import { SecretBox } from '../../src/security/envelope.ts';
import { loadMasterKeys } from '../../src/security/keys.ts';
import type { Store } from '../../src/store/store.ts';
import { FakePartner, fakeConnectionRow } from '../helpers/fake-partner.ts';
import { openTestStore, type TestStore } from '../helpers/stores.ts';
import { fastDelivery, metricAlert } from './helpers.ts';

/** The connection service with its partner client replaced by the fake. */
class FakeConnections extends ConnectionService {
  constructor(
    store: Store,
    box: SecretBox,
    private readonly fake: FakePartner,
  ) {
    super(store, box, { allowedPartnerHosts: [] });
  }
  override async client(): Promise<PartnerClient> {
    return this.fake;
  }
}

describe('delivery engine over the fake partner', () => {
  let t: TestStore;
  let fake: FakePartner;
  let engine: DeliveryEngine;
  let ingest: IngestService;
  let groups: ActionGroupService;

  before(async () => {
    t = await openTestStore('sqlite');
    const box = new SecretBox(loadMasterKeys(t.dataDir));
    fake = new FakePartner();
    await t.store.workspaces.ensure('default');
    await t.store.connections.insert(fakeConnectionRow(fake.configuration));
    const settings = fastDelivery();
    groups = new ActionGroupService(t.store, box);
    engine = new DeliveryEngine(t.store, new FakeConnections(t.store, box, fake), groups, settings.engine!, () => {});
    ingest = new IngestService(t.store, settings.ingest, () => engine.wake());
    await groups.put('default', 'g', {
      shortName: 'g',
      enabled: true,
      itsmReceivers: [
        { name: 'a', connectionName: 'fake', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0, autoResolve: { mode: 'resolve' } } },
      ],
    });
    engine.start();
  });
  after(async () => {
    await ingest.close();
    await engine.stop();
    await t.cleanup();
  });

  async function send(body: unknown): Promise<void> {
    const group = await groups.resolveByName('default', 'g');
    await ingest.ingest(group!, body);
    const end = Date.now() + 30_000;
    while ((await t.store.jobs.unfinished(['deliver'])) > 0) {
      if (Date.now() > end) throw new Error(`queue not drained: ${JSON.stringify(await t.store.jobs.counts())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const byRule = (rule: string) => fake.list().filter((i) => i.title.includes(rule));

  it('creates one work item, notes a new firing and resolves it on the resolve', async () => {
    await send(metricAlert({ rule: 'fake-cycle', alertId: 'f-1' }));
    await send(metricAlert({ rule: 'fake-cycle', alertId: 'f-2' }));
    assert.equal(byRule('fake-cycle').length, 1);
    const [item] = byRule('fake-cycle');
    assert.equal(item.notes.length, 1, 'the second firing is a note');
    await send(metricAlert({ rule: 'fake-cycle', alertId: 'f-2', condition: 'Resolved' }));
    await send(metricAlert({ rule: 'fake-cycle', alertId: 'f-1', condition: 'Resolved' }));
    assert.equal(item.ref.closed, true);
  });

  it('retries a create the partner answered 503 through the queue, looking it up first, without a duplicate', async () => {
    fake.failNext(503, 2);
    await send(metricAlert({ rule: 'fake-503', alertId: 'f-503' }));
    assert.equal(byRule('fake-503').length, 1);
    const ops = fake.calls
      .filter((c) => c.correlationKey && fake.items.get(byRule('fake-503')[0].ref.id)?.correlationKey === c.correlationKey)
      .map((c) => c.op);
    assert.ok(ops.includes('find'), `a retried create is preceded by a lookup: ${ops.join(', ')}`);
    assert.equal(ops.filter((o) => o === 'create').length, ops.length - ops.filter((o) => o === 'find').length);
  });

  it('waits out a 429 and delivers afterwards', async () => {
    fake.failNext(429, 1, 0);
    await send(metricAlert({ rule: 'fake-429', alertId: 'f-429' }));
    assert.equal(byRule('fake-429').length, 1);
  });

  it("fits the title to the partner descriptor's field limits", async () => {
    await send(metricAlert({ rule: `fake-long ${'x'.repeat(400)}`, alertId: 'f-long' }));
    const [item] = byRule('fake-long');
    assert.ok(item.title.length <= 160, `title of ${item.title.length} characters`);
  });
});

/** A fake partner whose creates wait until the test lets them through. */
class HeldFakePartner extends FakePartner {
  private release: (() => void) | null = null;
  private held = new Promise<void>((r) => (this.release = r));
  creates = 0;
  override async createWorkItem(input: Parameters<FakePartner['createWorkItem']>[0]) {
    this.creates += 1;
    await this.held;
    return super.createWorkItem(input);
  }
  letThrough(): void {
    this.release?.();
  }
}

describe('delivery engine: wakes for a connection that is already full', () => {
  let t: TestStore;
  let fake: HeldFakePartner;
  let engine: DeliveryEngine;
  let ingest: IngestService;
  let groups: ActionGroupService;
  let claims = 0;

  before(async () => {
    t = await openTestStore('sqlite');
    const box = new SecretBox(loadMasterKeys(t.dataDir));
    fake = new HeldFakePartner();
    await t.store.workspaces.ensure('default');
    await t.store.connections.insert(fakeConnectionRow(fake.configuration));
    const claim = t.store.jobs.claim.bind(t.store.jobs);
    t.store.jobs.claim = (opts) => {
      claims += 1;
      return claim(opts);
    };
    // One call at a time on the connection, and no idle polling during the test: only wakes make the engine claim.
    const settings = fastDelivery({ pollMs: 60_000, claimIntervalMs: 0, gate: { ...fastDelivery().engine!.gate!, concurrency: 1 } });
    groups = new ActionGroupService(t.store, box);
    engine = new DeliveryEngine(t.store, new FakeConnections(t.store, box, fake), groups, settings.engine!, () => {});
    ingest = new IngestService(t.store, settings.ingest, (connections) => engine.wake(connections));
    await groups.put('default', 'g', {
      shortName: 'g',
      enabled: true,
      itsmReceivers: [{ name: 'a', connectionName: 'fake', ticketConfiguration: { WorkItemType: 'Incident' } }],
    });
    engine.start();
  });
  after(async () => {
    fake.letThrough();
    await ingest.close();
    await engine.stop();
    await t.cleanup();
  });

  it('does not re-scan the queue for every ingest commit while the connection has no free slot, and claims again when a key finishes', async () => {
    const group = await groups.resolveByName('default', 'g');
    await ingest.ingest(group!, metricAlert({ rule: 'held-0', alertId: 'held-0' }));
    const until = async (what: string, ok: () => boolean | Promise<boolean>) => {
      const end = Date.now() + 10_000;
      while (!(await ok())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    // The connection takes two keys per call slot: the second one waits at the gate for the held create.
    await ingest.ingest(group!, metricAlert({ rule: 'held-1', alertId: 'held-1' }));
    await until('the first create to be in flight', () => fake.creates === 1);
    await until('both keys of the connection to be claimed', async () => (await t.store.jobs.counts()).running === 2);
    const before = claims;
    for (let i = 2; i <= 30; i++) await ingest.ingest(group!, metricAlert({ rule: `held-${i}`, alertId: `held-${i}` }));
    await new Promise((r) => setTimeout(r, 50));
    // At most one claim to learn that the connection is full; then its wakes are ignored.
    assert.ok(claims - before <= 2, `${claims - before} claims for 29 ingest commits while the connection was full`);
    fake.letThrough();
    await until('all 31 alerts delivered', async () => (await t.store.jobs.unfinished(['deliver'])) === 0);
    assert.equal(fake.list().filter((i) => i.title.includes('held-')).length, 31);
  });
});
