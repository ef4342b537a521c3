/**
 * The quick start with System Center Service Manager, end to end over HTTP: the SCSM sandbox on its port,
 * a Healthy connection `scsm-sandbox`, its history synced into ServiceDesk_CL with the same counts by type
 * and state as the sandbox's own web-app API reports, and an Azure alert posted to the action group
 * `sandbox-scsm` becoming exactly one IR incident with its affected CI, noted on re-fire, resolved on resolve.
 * Every check of the SCSM side goes through the web app's routes (raw fetch), not through our client.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SEEDED_CREDENTIALS } from '../../src/sandbox/scsm/index.ts';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';
import { sandboxPortEnv } from '../helpers/sandbox-ports.ts';
import { drained, metricAlert, postHook } from '../delivery/helpers.ts';

const INCIDENT = 'System.WorkItem.Incident';
const CHANGE = 'System.WorkItem.ChangeRequest';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    last = await probe();
    if (last !== undefined) return last as T;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The SCSM web app, called as any client would: a client-credentials token, then JSON routes. */
class WebApp {
  private token = '';
  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown): Promise<any> {
    if (!this.token) {
      const res = await fetch(`${this.url}/${SEEDED_CREDENTIALS.tenant}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: SEEDED_CREDENTIALS.clientId,
          client_secret: SEEDED_CREDENTIALS.clientSecret,
          resource: this.url,
        }),
      });
      this.token = ((await res.json()) as { access_token: string }).access_token;
    }
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.equal(res.status, 200, `${method} ${path}`);
    return res.json();
  }

  /** How many work items of a class have each status, read with one criteria query per lookup value. */
  async countsByStatus(className: string, statusEnum: string): Promise<Map<string, number>> {
    const { values } = await this.call('GET', `/api/lookupvalues?fieldName=${statusEnum}`);
    const counts = new Map<string, number>();
    for (const v of values as { Key: string; Value: string }[]) {
      const criteriaXML = `<Criteria xmlns="http://Microsoft.EnterpriseManagement.Core.Criteria/"><Expression><SimpleExpression><ValueExpressionLeft><GenericProperty>Status</GenericProperty></ValueExpressionLeft><Operator>Equal</Operator><ValueExpressionRight><Value>${v.Key}</Value></ValueExpressionRight></SimpleExpression></Expression></Criteria>`;
      const r = await this.call('POST', '/api/workitems', { className, criteriaXML, pageSize: 1 });
      if (r.totalRows > 0) counts.set(v.Value, r.totalRows);
    }
    return counts;
  }

  async incidentsTitled(text: string): Promise<any[]> {
    const criteriaXML = `<Criteria xmlns="http://Microsoft.EnterpriseManagement.Core.Criteria/"><Expression><SimpleExpression><ValueExpressionLeft><GenericProperty>Title</GenericProperty></ValueExpressionLeft><Operator>Like</Operator><ValueExpressionRight><Value>%${text}%</Value></ValueExpressionRight></SimpleExpression></Expression></Criteria>`;
    return (await this.call('POST', '/api/workitems', { className: INCIDENT, criteriaXML, pageSize: 100 })).businessObjects;
  }
}

const field = (item: { fields: { name: string; value: unknown; valueDisplayName: unknown }[] }, name: string) => item.fields.find((f) => f.name === name)!;

describe('quick start with SCSM (what `npm start` does)', () => {
  let c: TestConnector;
  let web: WebApp;
  before(async () => {
    c = await startTestConnector('sqlite', { ITSMC_SANDBOX: '1', ...(await sandboxPortEnv()), ITSMC_SYNC: '1' });
    const sb = c.sandboxes.find((s) => s.partnerType === 'SCSM');
    assert.ok(sb, 'the quick start runs the SCSM sandbox');
    web = new WebApp(sb.url);
  });
  after(async () => c.cleanup());

  it('runs the SCSM sandbox on its port with a Healthy connection scsm-sandbox and the action group sandbox-scsm', async () => {
    const sb = c.sandboxes.find((s) => s.partnerType === 'SCSM')!;
    assert.equal(new URL(sb.url).port, c.settings.sandboxPorts.SCSM.toString());
    const conn = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/scsm-sandbox');
    assert.equal(conn.status, 200);
    assert.equal(conn.body.status, 'Healthy', conn.body.lastError);
    assert.equal(conn.body.serverUrl, sb.url);
    const group = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/sandbox-scsm');
    assert.equal(group.status, 200);
    assert.equal(group.body.itsmReceivers[0].connectionName, 'scsm-sandbox');
    assert.equal(group.body.itsmReceivers[0].ticketConfiguration.WorkItemType, 'Incident');
    assert.equal(sb.webhookUrl?.endsWith(group.body.webhookUrl.slice(group.body.webhookUrl.indexOf('/hooks/'))), true);
  });

  it("after the sync, KQL counts of ServiceDesk_CL by type and state for scsm-sandbox equal the sandbox's own counts", async () => {
    const expected = {
      Incident: await web.countsByStatus(INCIDENT, 'IncidentStatusEnum'),
      ChangeRequest: await web.countsByStatus(CHANGE, 'ChangeStatusEnum'),
    };
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    assert.ok(total(expected.Incident) >= 6000 && total(expected.ChangeRequest) >= 1500, 'the quick start seeds the full volume');
    const kql = async (type: string, stateColumn: string): Promise<Map<string, number>> => {
      const res = await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', {
        query: `ServiceDesk_CL | where ServiceDeskConnectionName_s == 'scsm-sandbox' and ServiceDeskWorkItemType_s == '${type}' | summarize arg_max(TimeGenerated, *) by ServiceDeskId_s | summarize n = count() by ${stateColumn}`,
        timespan: 'P1D',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return new Map(res.body.tables[0].rows as [string, number][]);
    };
    const same = (a: Map<string, number>, b: Map<string, number>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
    const synced = await eventually('ServiceDesk_CL matches the sandbox', async () => {
      const got = { Incident: await kql('Incident', 'IncidentState_s'), ChangeRequest: await kql('ChangeRequest', 'CRState_s') };
      return same(got.Incident, expected.Incident) && same(got.ChangeRequest, expected.ChangeRequest) ? got : undefined;
    });
    assert.deepEqual([...synced.Incident.keys()].sort(), ['Active', 'Closed', 'Pending', 'Resolved']);
  });

  it('an Azure alert posted to sandbox-scsm makes exactly one IR with its affected CI; a re-fire adds one comment; the resolve resolves it', async () => {
    const sb = c.sandboxes.find((s) => s.partnerType === 'SCSM')!;
    // The quick-start group as it is, with notes sent at once instead of coalesced for a minute.
    const group = (await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/sandbox-scsm')).body;
    const receivers = group.itsmReceivers.map((r: any) => ({
      name: r.name,
      connectionName: r.connectionName,
      ticketConfiguration: { ...r.ticketConfiguration, noteCoalesceSeconds: 0 },
    }));
    const put = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/actionGroups/sandbox-scsm', {
      shortName: group.shortName,
      enabled: true,
      itsmReceivers: receivers,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    assert.equal((await postHook(sb.webhookUrl!, metricAlert({ rule: 'scsm-cpu-e2e', alertId: 's-1', cis: ['vm-scsm-e2e-01'] }))).status, 202);
    await drained(c, 60_000);
    let items = await web.incidentsTitled('scsm-cpu-e2e');
    assert.equal(items.length, 1, 'exactly one incident');
    const [ir] = items;
    assert.match(field(ir, 'Id').value as string, /^IR\d+$/);
    assert.match(field(ir, 'ContactMethod').value as string, /^oitsmc:[a-z2-7]{32}$/);
    assert.equal(field(ir, 'Status').valueDisplayName, 'Active');
    assert.equal(field(ir, 'Impact').valueDisplayName, 'Medium', 'Sev2 → Medium/Medium by the SCSM severity mapping');
    const cis = await web.call('POST', '/api/affectedci', { incidentIds: [field(ir, 'Id').value], WIType: INCIDENT });
    assert.deepEqual(cis.values, [{ Key: field(ir, 'Id').value, Value: 'vm-scsm-e2e-01' }]);
    const log = async () => field(await web.call('POST', `/api/workitems/${ir.bmeId}`, {}), 'ActionLog').value as { Comment: string; EnteredBy: string }[];
    const before = (await log()).length;

    assert.equal((await postHook(sb.webhookUrl!, metricAlert({ rule: 'scsm-cpu-e2e', alertId: 's-2', cis: ['vm-scsm-e2e-01'] }))).status, 202);
    await drained(c, 60_000);
    const afterRefire = await log();
    assert.equal(afterRefire.length, before + 1, 'one comment for the re-fire');
    assert.match(afterRefire[0].Comment, /s-2/);
    assert.equal(afterRefire[0].EnteredBy, 'SM-OMS');
    assert.equal((await web.incidentsTitled('scsm-cpu-e2e')).length, 1, 'still one incident');

    for (const id of ['s-1', 's-2'])
      await postHook(sb.webhookUrl!, metricAlert({ rule: 'scsm-cpu-e2e', alertId: id, condition: 'Resolved', cis: ['vm-scsm-e2e-01'] }));
    await drained(c, 60_000);
    items = await web.incidentsTitled('scsm-cpu-e2e');
    assert.equal(items.length, 1);
    assert.equal(field(items[0], 'Status').valueDisplayName, 'Resolved');
    assert.equal(field(items[0], 'ResolutionCategory').valueDisplayName, 'Fixed by analyst');
    assert.ok(field(items[0], 'ResolvedDate').value);
  });
});
