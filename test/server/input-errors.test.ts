import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';

describe('bad input gets a 4xx with the error shape', () => {
  let c: TestConnector;
  const path = '/api/v1/workspaces/default/connections/scsm-1';
  const valid = { partnerType: 'SCSM', serverUrl: 'https://scsm.example.com', clientId: 'app', clientSecret: 's3cret' };
  before(async () => {
    c = await startTestConnector('sqlite', { ITSMC_BODY_LIMIT_BYTES: '4096' });
  });
  after(async () => c.cleanup());

  it('answers malformed JSON with 400 InvalidJson', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, '{"partnerType": "SCSM",');
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'InvalidJson');
    assert.ok(res.body.error.message.length > 0);
  });

  it('names the field and the allowed values for a wrong enum', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, { ...valid, partnerType: 'Jira' });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /partnerType/);
  });

  it('names the field for a wrong type', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, { ...valid, syncDataDays: 'thirty' });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /syncDataDays/);
  });

  it('refuses sync days outside 1–120', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, { ...valid, syncDataDays: 121 });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /syncDataDays.*120/);
  });

  it('refuses unknown properties by name', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, { ...valid, pasword: 'typo' });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /pasword/);
  });

  it('lists every missing required field of the partner', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/snow', {
      partnerType: 'ServiceNow',
      serverUrl: 'https://dev1.service-now.com',
    });
    assert.equal(res.status, 400);
    const paths = res.body.error.details.map((d: any) => d.path);
    assert.deepEqual(paths, ['body/username', 'body/password', 'body/clientId', 'body/clientSecret']);
  });

  it('refuses a ServiceNow URL outside service-now.com, plain http and private addresses', async () => {
    const base = { partnerType: 'ServiceNow', username: 'u', password: 'p', clientId: 'c', clientSecret: 's' };
    for (const serverUrl of [
      'https://evil.example.com',
      'http://dev1.service-now.com',
      'https://127.0.0.1:8443',
      'https://169.254.169.254',
      'https://[::1]/',
      'https://10.1.2.3',
      'not a url',
    ]) {
      const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/snow', { ...base, serverUrl });
      assert.equal(res.status, 400, serverUrl);
      assert.match(res.body.error.message, /serverUrl/, serverUrl);
    }
  });

  it('refuses IPv4-mapped IPv6 addresses and trailing-dot names for every partner', async () => {
    for (const serverUrl of ['https://[::ffff:127.0.0.1]:9181', 'https://[::ffff:7f00:1]', 'https://localhost.:9181']) {
      const res = await api(c.url, c.adminToken, 'PUT', path, { ...valid, serverUrl });
      assert.equal(res.status, 400, serverUrl);
      assert.match(res.body.error.message, /serverUrl: .*(IPv4-mapped|ends with a dot)/, serverUrl);
    }
  });

  it('answers an oversize body with 413', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, { ...valid, clientId: 'x'.repeat(10000) });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'PayloadTooLarge');
  });

  it('answers an invalid workspace name in the path with 400', async () => {
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/Bad_Name/connections');
    assert.equal(res.status, 400);
  });

  it('answers unknown routes and connections with 404 in the error shape', async () => {
    assert.equal((await api(c.url, c.adminToken, 'GET', '/api/v1/nope')).body.error.code, 'NotFound');
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/missing');
    assert.equal(res.status, 404);
    assert.match(res.body.error.message, /missing/);
  });

  it('never answers 500 to a wrong content type', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, 'partnerType=SCSM', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 415);
  });
});
