/**
 * Recovery does not wait for timers (issue 9): after the partner answers again, a successful connection test,
 * sync or new sign-in resumes delivery at once — the sign-in pause is cleared and the circuit breaker closed.
 * The pauses here are long (60 s) and the queue must drain well before them.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, testDialects } from '../helpers/stores.ts';
import { drained, fastDelivery, metricAlert, ourIncidents, postHook, putGroup, sandboxAdmin, startRig, type Rig } from './helpers.ts';

const LONG = 60_000;

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const dialect of testDialects) {
  describe(`delivery resumes when the connection is known to work again on ${dialect}`, () => {
    let rig: Rig;
    let webhookUrl: string;
    before(async () => {
      rig = await startRig(
        dialect,
        fastDelivery({
          authPauseMs: LONG,
          gate: { concurrency: 8, ratePerSecond: 1000, burst: 1000, minRatePerSecond: 20, failureThreshold: 2, openMs: LONG, maxOpenMs: LONG },
        }),
      );
      webhookUrl = (await putGroup(rig, 'recovery', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }])).webhookUrl;
    });
    after(async () => rig.cleanup());
    afterEach(async () => sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/reset_faults'));

    it('a successful connection test closes the open circuit breaker and the backlog drains at once', async () => {
      await sandboxAdmin(rig.sandbox, 'PUT', '/api/x_sandbox/faults', { outageUntil: new Date(Date.now() + 60_000).toISOString() });
      for (let i = 0; i < 3; i++) await postHook(webhookUrl, metricAlert({ rule: `breaker-${dialect}-${i}`, alertId: `br-${i}` }));
      const connId = (await rig.c.store.connections.get('default', 'snow'))!.id;
      await waitUntil('the breaker to open', async () => rig.c.delivery.gateOf(connId)?.breaker === 'open');
      await sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/reset_faults');
      const tested = await api(rig.c.url, rig.token, 'POST', '/api/v1/workspaces/default/connections/snow/test');
      assert.equal(tested.body.status, 'Healthy');
      await drained(rig.c, 15_000);
      assert.equal(rig.c.delivery.gateOf(connId)?.breaker, 'closed');
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes(`breaker-${dialect}`)).length, 3);
    });

    it('entering the password again ends the sign-in pause and the backlog drains at once', async () => {
      await sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/oauth/revoke_all');
      await postHook(webhookUrl, metricAlert({ rule: `auth-${dialect}`, alertId: 'au-1' }));
      await waitUntil('the connection to fail its sign-in', async () => (await rig.c.store.connections.get('default', 'snow'))!.status === 'Error');
      const put = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/connections/snow', {
        partnerType: 'ServiceNow',
        serverUrl: rig.sandbox.url,
        username: 'itsmc.integration',
        password: 'sandbox',
        clientId: 'itsmc-sandbox',
        createNewConfigurationItems: true,
      });
      assert.equal(put.status, 200);
      await drained(rig.c, 15_000);
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes(`auth-${dialect}`)).length, 1);
    });
  });
}
