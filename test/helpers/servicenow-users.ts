/** An integration user and OAuth client of a test's own in a ServiceNow sandbox, made as an admin would on a real instance. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';

const adminAuth = 'Basic ' + Buffer.from('admin:admin').toString('base64');

export async function snow(sandbox: ServiceNowSandbox, method: string, pathname: string, body?: unknown) {
  const res = await fetch(sandbox.url + pathname, {
    method,
    headers: { authorization: adminAuth, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Sets up an integration user and OAuth client of the test's own, as an admin would on a real instance. */
export async function createIntegrationUser(sandbox: ServiceNowSandbox, password: string, clientSecret: string) {
  const suffix = randomBytes(3).toString('hex');
  const user = await snow(sandbox, 'POST', '/api/now/table/sys_user?sysparm_input_display_value=true', {
    user_name: `itsmc.test.${suffix}`,
    user_password: password,
    active: 'true',
  });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const roles = await snow(sandbox, 'GET', '/api/now/table/sys_user_has_role?sysparm_query=user.user_name=itsmc.integration&sysparm_fields=role');
  for (const r of roles.body.result) {
    const granted = await snow(sandbox, 'POST', '/api/now/table/sys_user_has_role', { user: user.body.result.sys_id, role: r.role.value ?? r.role });
    assert.equal(granted.status, 201);
  }
  const clientId = `client-${suffix}`;
  const entity = await snow(sandbox, 'POST', '/api/now/table/oauth_entity', {
    name: `OpenITSMC test ${suffix}`,
    client_id: clientId,
    client_secret: clientSecret,
  });
  assert.equal(entity.status, 201);
  return { username: `itsmc.test.${suffix}`, clientId };
}
