/**
 * Golden tests: one fixture per payload family under test/fixtures/alerts/<family>.json, each case a realistic
 * payload written from the documented shape (reference/partner-apis.md §5) with its expected normalized output
 * (`raw` omitted: it must be the payload itself). Regenerate after a deliberate change with UPDATE_GOLDEN=1, then
 * review the diff.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NormalizedAlert, PayloadFamily } from '../core/alert.ts';
import { parseAlertPayload } from './detect.ts';

const dir = fileURLToPath(new URL('../../test/fixtures/alerts/', import.meta.url));
const RECEIVED_AT = '2030-01-01T00:00:00.000Z';

interface Fixture {
  family: PayloadFamily;
  source: string;
  cases: Array<{ name: string; payload: unknown; expected?: Array<Omit<NormalizedAlert, 'raw'>> }>;
}

const ALL_FAMILIES: PayloadFamily[] = [
  'azure-common-metric',
  'azure-common-logsearch',
  'azure-common-activitylog',
  'azure-common-servicehealth',
  'azure-common-resourcehealth',
  'azure-common-budget',
  'azure-common-other',
  'azure-legacy-loganalytics',
  'azure-classic-metric',
  'azure-legacy-activitylog',
  'azure-budget-notification',
  'azure-metric-v2',
  'alertmanager-v4',
  'grafana-v1',
];

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('golden payloads per family', () => {
  it('has a fixture file for every payload family', () => {
    assert.deepEqual(files.map((f) => f.replace(/\.json$/, '')).sort(), [...ALL_FAMILIES].sort());
  });

  for (const file of files) {
    const path = join(dir, file);
    const fixture = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
    describe(file, () => {
      for (const c of fixture.cases) {
        it(`parses ${c.name}`, () => {
          const alerts = parseAlertPayload(c.payload, { receivedAt: RECEIVED_AT });
          for (const a of alerts) {
            assert.equal(a.raw, c.payload, 'raw is the payload itself');
            assert.equal(a.family, fixture.family);
          }
          const actual = JSON.parse(JSON.stringify(alerts.map(({ raw: _raw, ...rest }) => rest)));
          if (process.env.UPDATE_GOLDEN === '1') c.expected = actual;
          else assert.deepEqual(actual, c.expected);
        });
      }
    });
    if (process.env.UPDATE_GOLDEN === '1') process.on('exit', () => writeFileSync(path, `${JSON.stringify(fixture, null, 2)}\n`));
  }
});
