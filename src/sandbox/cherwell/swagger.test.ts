/**
 * Drives the sandbox the way a client generated from Cherwell's published Swagger does: every request is
 * built only from the operation (route, parameter names and locations) and model definitions in
 * fixtures/cherwell-swagger-9.2.0.excerpt.json, and every answer must carry exactly the members of the
 * operation's response model, recursively.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { CherwellSandbox } from './index.ts';
import { SANDBOX_CREDENTIALS } from './index.ts';
import { startSmall } from './test-support.ts';

interface Schema {
  $ref?: string;
  type?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  enum?: string[];
}
interface Param {
  name: string;
  in: 'path' | 'query' | 'formData' | 'body';
  required: boolean;
  schema?: Schema;
  enum?: string[];
}
interface Operation {
  operationId: string;
  parameters: Param[];
  responses: Record<string, { schema?: Schema }>;
}
interface Swagger {
  basePath: string;
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
}

const spec = JSON.parse(readFileSync(new URL('./fixtures/cherwell-swagger-9.2.0.excerpt.json', import.meta.url), 'utf8')) as Swagger;

function deref(s: Schema): Schema {
  return s.$ref ? spec.definitions[s.$ref.replace('#/definitions/', '')] : s;
}

/** Asserts `value` carries exactly the members `schema` declares (objects), recursing into arrays and refs. */
function conforms(value: unknown, schema: Schema, where: string, exact: boolean): void {
  const s = deref(schema);
  if (value === null || value === undefined) return;
  if (s.type === 'array') {
    assert.ok(Array.isArray(value), `${where} must be an array`);
    value.forEach((v, i) => conforms(v, s.items!, `${where}[${i}]`, exact));
  } else if (s.properties) {
    assert.equal(typeof value, 'object', `${where} must be an object`);
    const declared = Object.keys(s.properties).sort();
    const actual = Object.keys(value as object).sort();
    for (const k of actual) assert.ok(declared.includes(k), `${where}.${k} is not in the Swagger model`);
    if (exact) assert.deepEqual(actual, declared, `${where} must carry every member of its model`);
    for (const k of actual) conforms((value as Record<string, unknown>)[k], s.properties[k], `${where}.${k}`, exact);
  } else if (s.type === 'boolean') assert.equal(typeof value, 'boolean', `${where} must be a boolean`);
  else if (s.type === 'integer') assert.ok(Number.isInteger(value), `${where} must be an integer`);
  else if (s.type === 'string') assert.equal(typeof value, 'string', `${where} must be a string`);
  if (s.enum) assert.ok(s.enum.includes(value as string), `${where} must be one of ${s.enum.join(', ')}`);
}

function find(operationId: string): { path: string; method: string; op: Operation } {
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) if (op.operationId === operationId) return { path, method: method.toUpperCase(), op };
  }
  throw new Error(`operation ${operationId} is not in the fixture`);
}

/** The generated-client call: arguments by Swagger parameter name; the body checked against its model. */
async function invoke(sb: CherwellSandbox, token: string | null, operationId: string, args: Record<string, unknown> = {}): Promise<any> {
  const { path, method, op } = find(operationId);
  for (const k of Object.keys(args))
    assert.ok(
      op.parameters.some((p) => p.name === k),
      `${operationId} has no parameter ${k}`,
    );
  let url = path;
  const query = new URLSearchParams();
  const form = new URLSearchParams();
  let body: string | undefined;
  const headers: Record<string, string> = { Accept: 'application/json' };
  for (const p of op.parameters) {
    const v = args[p.name];
    if (v === undefined) {
      assert.ok(!p.required, `${operationId}: ${p.name} is required`);
      continue;
    }
    if (p.enum) assert.ok(p.enum.includes(String(v)), `${p.name} must be one of ${p.enum.join(', ')}`);
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(v)));
    else if (p.in === 'query') query.set(p.name, String(v));
    else if (p.in === 'formData') form.set(p.name, String(v));
    else {
      conforms(v, p.schema!, `${operationId}(${p.name})`, false);
      body = JSON.stringify(v);
      headers['Content-Type'] = 'application/json';
    }
  }
  if ([...form.keys()].length) {
    body = form.toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  const qs = query.toString();
  const res = await fetch(`${sb.url}${spec.basePath}${url}${qs ? '?' + qs : ''}`, { method, headers, body });
  const declared = Object.keys(op.responses).map(Number);
  assert.ok(declared.includes(res.status), `${operationId} answered ${res.status}: ${await res.clone().text()}`);
  const schema = op.responses[String(res.status)].schema;
  if (!schema) return undefined;
  const data = await res.json();
  conforms(data, schema, operationId, true);
  return data;
}

describe('Cherwell sandbox against the published Swagger (9.2.0 excerpt)', () => {
  let sb: CherwellSandbox;
  before(async () => {
    sb = await startSmall({ volume: { incidents: 50, changeRequests: 10, configItems: 10 } });
  });
  after(() => sb.close());

  it('serves the whole incident round trip with requests and answers exactly as the Swagger models them', async () => {
    const c = SANDBOX_CREDENTIALS;
    const login = await invoke(sb, null, 'Service_Token', {
      grant_type: 'password',
      client_id: c.restClient.clientId,
      username: c.integration.user,
      password: c.integration.password,
      auth_mode: 'Internal',
    });
    const refreshed = await invoke(sb, null, 'Service_Token', {
      grant_type: 'refresh_token',
      client_id: c.restClient.clientId,
      refresh_token: login.refresh_token,
    });
    const t = refreshed.access_token as string;

    const [summary] = await invoke(sb, t, 'BusinessObject_GetBusinessObjectSummaryByNameV1', { busobname: 'Incident' });
    const byId = await invoke(sb, t, 'BusinessObject_GetBusinessObjectSummaryByIdV1', { busobid: summary.busObId });
    assert.equal(byId[0].name, 'Incident');
    const schema = await invoke(sb, t, 'BusinessObject_GetBusinessObjectSchemaV1', { busobId: summary.busObId, includerelationships: false });
    assert.ok(schema.fieldDefinitions.some((d: { name: string; required: boolean }) => d.name === 'ShortDescription' && d.required));

    const template = await invoke(sb, t, 'BusinessObject_GetBusinessObjectTemplateV1', {
      request: { busObId: summary.busObId, fieldNames: [], fieldIds: [], includeAll: true, includeRequired: true },
    });
    const fields = (template.fields as { name: string; fieldId: string; displayName: string; dirty: boolean; html: null; value: string }[]).map((fi) => ({
      ...fi,
      dirty: ['ShortDescription', 'Description', 'Priority'].includes(fi.name),
      value: fi.name === 'ShortDescription' ? 'Swagger round trip' : fi.name === 'Priority' ? '2' : fi.name === 'Description' ? 'generated client' : fi.value,
    }));
    const saved = await invoke(sb, t, 'BusinessObject_SaveBusinessObjectV1', { request: { busObId: summary.busObId, fields, persist: true } });
    assert.equal(saved.hasError, false);

    const byRec = await invoke(sb, t, 'BusinessObject_GetBusinessObjectByRecIdV1', { busobid: summary.busObId, busobrecid: saved.busObRecId });
    const byPublic = await invoke(sb, t, 'BusinessObject_GetBusinessObjectByPublicIdV1', { busobid: summary.busObId, publicid: saved.busObPublicId });
    assert.deepEqual(byRec, byPublic);

    const statusField = fields.find((fi) => fi.name === 'Status')!;
    const update = await invoke(sb, t, 'BusinessObject_SaveBusinessObjectBatchV1', {
      request: {
        saveRequests: [
          { busObId: summary.busObId, busObRecId: saved.busObRecId, fields: [{ ...statusField, dirty: true, value: 'In Progress' }], persist: true },
        ],
        stopOnError: true,
      },
    });
    assert.equal(update.hasError, false);
    const batch = await invoke(sb, t, 'BusinessObject_GetBusinessObjectBatchV1', {
      request: { readRequests: [{ busObId: summary.busObId, busObRecId: saved.busObRecId }], stopOnError: false },
    });
    assert.equal(batch.responses[0].fields.find((fi: { name: string }) => fi.name === 'Status').value, 'In Progress');

    const results = await invoke(sb, t, 'Searches_GetSearchResultsAdHocV1', {
      request: {
        busObId: summary.busObId,
        filters: [{ fieldId: fields.find((fi) => fi.name === 'ShortDescription')!.fieldId, operator: 'eq', value: 'Swagger round trip' }],
        includeAllFields: true,
        pageNumber: 1,
        pageSize: 10,
        sorting: [{ fieldId: statusField.fieldId, sortDirection: 1 }],
      },
    });
    assert.equal(results.totalRows, 1);
    assert.equal(results.businessObjects[0].busObRecId, saved.busObRecId);

    const deleted = await invoke(sb, t, 'BusinessObject_DeleteBusinessObjectByPublicIdV1', { busobid: summary.busObId, publicid: saved.busObPublicId });
    assert.equal(deleted.hasError, false);
    const again = await invoke(sb, t, 'BusinessObject_DeleteBusinessObjectByRecIdV1', { busobid: summary.busObId, busobrecid: saved.busObRecId });
    assert.equal(again.hasError, true);
    await invoke(sb, t, 'Service_LogoutUserV1');
  });
});
