/**
 * F1 — ServiceNow sandbox Table API list throughput: 100,000 seeded incidents paged through
 * `GET /api/now/table/incident` with sysparm_limit=1000 in keyset order (sys_updated_on, sys_id), as an
 * incremental sync reads them. Baseline: the same rows and columns read straight from the sandbox's own
 * SQLite database in the same run, with the same keyset query.
 */
import { startWithStore } from '../src/sandbox/servicenow/index.ts';
import type { BenchResult } from './types.ts';

const INCIDENTS = 100_000;
const LIMIT = 1000;
/** The fields a sync needs (what ITSMC mapped into ServiceDesk_CL, plus the keyset columns). */
const FIELDS = [
  'sys_id',
  'number',
  'sys_updated_on',
  'sys_created_on',
  'state',
  'urgency',
  'impact',
  'priority',
  'escalation',
  'opened_by',
  'resolved_by',
  'closed_by',
  'contact_type',
  'assigned_to',
  'assignment_group',
  'category',
  'short_description',
  'description',
  'opened_at',
  'closed_at',
  'resolved_at',
  'cmdb_ci',
  'correlation_id',
];
const START = '1970-01-01 00:00:00';

export default async function run(): Promise<BenchResult[]> {
  const { sandbox, store } = await startWithStore({ seed: 1, volume: { incidents: INCIDENTS, changeRequests: 100, computers: 500 } });
  try {
    const auth = 'Basic ' + Buffer.from('itsmc.integration:sandbox').toString('base64');
    const readApi = async (): Promise<number> => {
      let last: { on: string; id: string } | undefined;
      let n = 0;
      for (;;) {
        const query = last
          ? `sys_updated_on>${last.on}^NQsys_updated_on=${last.on}^sys_id>${last.id}^ORDERBYsys_updated_on^ORDERBYsys_id`
          : `sys_updated_on>=${START}^ORDERBYsys_updated_on^ORDERBYsys_id`;
        const url =
          `${sandbox.url}/api/now/table/incident?sysparm_limit=${LIMIT}&sysparm_exclude_reference_link=true` +
          `&sysparm_fields=${FIELDS.join(',')}&sysparm_query=${encodeURIComponent(query)}`;
        const r = await fetch(url, { headers: { Authorization: auth, Accept: 'application/json' } });
        if (r.status !== 200) throw new Error(`sandbox answered ${r.status}`);
        const page = ((await r.json()) as { result: Record<string, string>[] }).result;
        n += page.length;
        if (page.length < LIMIT) return n;
        const l = page[page.length - 1];
        last = { on: l.sys_updated_on, id: l.sys_id };
      }
    };
    const readSqlite = (): number => {
      const cols = FIELDS.map((f) => `"${f}"`).join(', ');
      const first = store.db.prepare(`SELECT ${cols} FROM incident WHERE sys_updated_on >= ? ORDER BY sys_updated_on, sys_id LIMIT ?`).raw(true);
      const next = store.db.prepare(`SELECT ${cols} FROM incident WHERE (sys_updated_on, sys_id) > (?, ?) ORDER BY sys_updated_on, sys_id LIMIT ?`).raw(true);
      const iOn = FIELDS.indexOf('sys_updated_on');
      const iId = FIELDS.indexOf('sys_id');
      let n = 0;
      let page = first.all(START, LIMIT) as unknown[][];
      for (;;) {
        n += page.length;
        if (page.length < LIMIT) return n;
        const l = page[page.length - 1];
        page = next.all(l[iOn], l[iId], LIMIT) as unknown[][];
      }
    };

    // Warm both paths once (statement caches, JIT), then measure.
    await readApi();
    readSqlite();
    let t = performance.now();
    const apiRows = await readApi();
    const apiMs = performance.now() - t;
    t = performance.now();
    const sqlRows = readSqlite();
    const sqlMs = performance.now() - t;
    if (apiRows !== INCIDENTS || sqlRows !== INCIDENTS) throw new Error(`read ${apiRows} / ${sqlRows} rows, expected ${INCIDENTS}`);
    const value = Math.round((apiRows / apiMs) * 1000);
    const baseline = Math.round((sqlRows / sqlMs) * 1000);
    return [
      {
        id: 'F1',
        name: 'Sandbox ServiceNow Table API list throughput',
        value,
        unit: 'records/s',
        goal: null,
        baseline,
        ratio: Math.round((value / baseline) * 1000) / 1000,
      },
    ];
  } finally {
    await sandbox.close();
  }
}
