import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUsLocal } from '../../partners/cherwell/dates.ts';
import type { CherwellSandbox } from './index.ts';
import { ADMIN, bearer, busObId, call, fieldIds, fieldValue, INCIDENT_ID, SMALL, startSmall } from './test-support.ts';

async function snapshot(sb: CherwellSandbox): Promise<string[]> {
  const auth = await bearer(sb);
  const f = await fieldIds(sb, auth, INCIDENT_ID);
  const r = await call(sb, 'POST', '/api/V1/getsearchresults', {
    auth,
    body: { busObId: INCIDENT_ID, includeAllFields: true, pageNumber: 1, pageSize: 50, sorting: [{ fieldId: f.IncidentID, sortDirection: 1 }] },
  });
  return r.body.businessObjects.map((b: { busObRecId: string; fields: { name: string; value: string }[] }) =>
    [b.busObRecId, fieldValue(b, 'Status'), fieldValue(b, 'ShortDescription'), fieldValue(b, 'CreatedDateTime')].join('|'),
  );
}

describe('Cherwell sandbox: deterministic seed', () => {
  it('gives the same records for the same seed and anchor time, different ones for another seed', async () => {
    const [a, b, c] = await Promise.all([startSmall({ seed: 7 }), startSmall({ seed: 7 }), startSmall({ seed: 8 })]);
    try {
      const [sa, sb2, sc] = await Promise.all([snapshot(a), snapshot(b), snapshot(c)]);
      assert.equal(sa.length, 50);
      assert.deepEqual(sa, sb2);
      assert.notDeepEqual(sa, sc);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('seeds the requested volumes over the requested days, in every status', async () => {
    const sb = await startSmall({ days: 30 });
    try {
      const auth = await bearer(sb);
      const f = await fieldIds(sb, auth, INCIDENT_ID);
      const all = await call(sb, 'POST', '/api/V1/getsearchresults', {
        auth,
        body: {
          busObId: INCIDENT_ID,
          includeAllFields: false,
          fields: [f.CreatedDateTime, f.Status],
          pageSize: 5000,
          sorting: [{ fieldId: f.CreatedDateTime, sortDirection: 1 }],
        },
      });
      assert.equal(all.body.totalRows, SMALL.incidents);
      const first = parseUsLocal(fieldValue(all.body.businessObjects[0], 'CreatedDateTime')!, 'America/New_York')!;
      assert.ok(first >= Date.parse('2026-11-20T12:00:00Z') - 30 * 86_400_000);
      const statuses = new Set(all.body.businessObjects.map((b: any) => fieldValue(b, 'Status')));
      for (const s of ['New', 'In Progress', 'Closed']) assert.ok(statuses.has(s), s);
      const changeId = await busObId(sb, auth, 'ChangeRequest');
      const changes = await call(sb, 'POST', '/api/V1/getsearchresults', { auth, body: { busObId: changeId, pageSize: 1 } });
      assert.equal(changes.body.totalRows, SMALL.changeRequests);
      const licences = await call(sb, 'GET', '/api/x_sandbox/licences', { auth: ADMIN });
      assert.equal(licences.body.logins, 1);
    } finally {
      await sb.close();
    }
  });

  it('keeps a data directory across restarts without reseeding', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'cw-sandbox-'));
    try {
      const first = await startSmall({ dataDir: dir });
      const auth = await bearer(first);
      const f = await fieldIds(first, auth, INCIDENT_ID);
      const saved = await call(first, 'POST', '/api/V1/savebusinessobject', {
        auth,
        body: { busObId: INCIDENT_ID, fields: [{ dirty: true, fieldId: f.ShortDescription, value: 'survives restart' }] },
      });
      await first.close();
      const second = await startSmall({ dataDir: dir, seed: 99 });
      try {
        const auth2 = await bearer(second);
        const read = await call(second, 'GET', `/api/V1/getbusinessobject/busobid/${INCIDENT_ID}/publicid/${saved.body.busObPublicId}`, { auth: auth2 });
        assert.equal(fieldValue(read.body, 'ShortDescription'), 'survives restart');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
