import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAlertPayload, PAYLOAD_SHAPES } from './detect.ts';
import { IngestError } from './errors.ts';
import { parseTimestamp } from './dates.ts';
import { fromEventLevel, toSeverity } from './severity.ts';
import { hostOfInstance } from './ci.ts';
import { readFileSync } from 'node:fs';

const SHAPES = PAYLOAD_SHAPES.map((s) => s.name);

function ingestError(body: unknown): IngestError {
  try {
    parseAlertPayload(body, { receivedAt: '2030-01-01T00:00:00Z' });
  } catch (e) {
    assert.ok(e instanceof IngestError, `expected IngestError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an IngestError');
}

const common = (essentials: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  schemaId: 'azureMonitorCommonAlertSchema',
  data: { essentials: { alertId: 'a-1', alertRule: 'r', severity: 'Sev2', monitorCondition: 'Fired', ...essentials }, ...extra },
});

describe('detection: payloads that match nothing', () => {
  for (const [what, body] of [
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
    ['an array', [1, 2, 3]],
    ['an empty object', {}],
    ['an unrelated object', { hello: 'world', items: [1] }],
  ] as Array<[string, unknown]>) {
    it(`rejects ${what} with IngestError naming every shape tried`, () => {
      const e = ingestError(body);
      assert.deepEqual(e.shapesTried, SHAPES);
      assert.deepEqual(e.details.shapesTried, SHAPES);
      assert.equal(e.details.mismatches.length, SHAPES.length);
      assert.ok(SHAPES.includes(e.firstMismatch.shape));
      assert.ok(e.firstMismatch.path.length > 0 && e.firstMismatch.expected.length > 0);
      assert.match(e.message, /tried azure-common, azure-metric-v2/);
    });
  }

  it('reports the common schema as the closest shape when schemaId says so but essentials are missing', () => {
    const e = ingestError({ schemaId: 'azureMonitorCommonAlertSchema', data: {} });
    assert.deepEqual(e.firstMismatch, { shape: 'azure-common', path: 'data.essentials', expected: 'an object', actual: 'missing' });
    assert.match(e.message, /^azure-common alert refused at data\.essentials: expected an object, found missing/);
  });

  it('reports a bad monitorCondition with the allowed values', () => {
    const e = ingestError(common({ monitorCondition: 'Exploded' }));
    assert.equal(e.firstMismatch.shape, 'azure-common');
    assert.equal(e.firstMismatch.path, 'data.essentials.monitorCondition');
    assert.equal(e.firstMismatch.expected, 'one of "Fired", "Resolved"');
    assert.equal(e.firstMismatch.actual, 'string "Exploded"');
  });

  it('reports an unknown common-schema severity', () => {
    const e = ingestError(common({ severity: 'Sev9' }));
    assert.equal(e.firstMismatch.path, 'data.essentials.severity');
  });

  it('reports a missing alert rule (wrong type) on the common schema', () => {
    const e = ingestError(common({ alertRule: { nested: true } }));
    assert.deepEqual({ path: e.firstMismatch.path, actual: e.firstMismatch.actual }, { path: 'data.essentials.alertRule', actual: 'object' });
  });

  it('says "null", not "missing", for a null value and names what else could name the rule', () => {
    const e = ingestError({ schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertRule: null, monitorCondition: null } } });
    assert.equal(e.firstMismatch.path, 'data.essentials.alertRule');
    assert.equal(e.firstMismatch.actual, 'null');
    assert.match(e.firstMismatch.expected, /budget name, operation name or monitoring service/);
    assert.equal(ingestError({ schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: {} } }).firstMismatch.actual, 'missing');
    const legacy = ingestError({ schemaId: 'Microsoft.Insights/activityLogs', data: { context: null } });
    assert.deepEqual([legacy.firstMismatch.path, legacy.firstMismatch.actual], ['data.context', 'null']);
    assert.match(legacy.message, /found null/);
  });

  it('accepts a common-schema alert with alertRule and monitorCondition null, naming the rule by its service and alert', () => {
    const [a] = parseAlertPayload({
      schemaId: 'azureMonitorCommonAlertSchema',
      data: {
        essentials: {
          alertRule: null,
          monitorCondition: null,
          severity: null,
          monitoringService: 'SmartDetector',
          alertId: '/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/abc-1',
        },
      },
    });
    assert.equal(a.rule, 'SmartDetector abc-1');
    assert.equal(a.monitorCondition, 'Fired');
  });

  it('accepts an AIP budget notification without a BudgetName only when it says so: a 400 names data.BudgetName', () => {
    const e = ingestError({ schemaId: 'AIP Budget Notification', data: { BudgetName: null, SpendingAmount: '10' } });
    assert.deepEqual([e.firstMismatch.shape, e.firstMismatch.path, e.firstMismatch.actual], ['azure-budget-notification', 'data.BudgetName', 'null']);
  });

  it('reports an Alertmanager alert without a usable status at its index', () => {
    const e = ingestError({ version: '4', groupKey: 'g', alerts: [{ status: 'firing', labels: {} }, { status: 'sleeping' }] });
    assert.equal(e.firstMismatch.shape, 'alertmanager-v4');
    assert.equal(e.firstMismatch.path, 'alerts[1].status');
  });

  it('reports an Alertmanager envelope whose alerts is not an array', () => {
    const e = ingestError({ version: '4', alerts: 'nope' });
    assert.deepEqual(e.firstMismatch, { shape: 'alertmanager-v4', path: 'alerts', expected: 'an array of alerts', actual: 'string "nope"' });
  });

  it('reports an unknown Alertmanager-like version against both envelope shapes', () => {
    const e = ingestError({ version: '7', alerts: [] });
    const byShape = Object.fromEntries(e.details.mismatches.map((m) => [m.shape, m]));
    assert.equal(byShape['alertmanager-v4'].path, 'version');
    assert.equal(byShape['grafana-v1'].path, 'version');
  });

  it('reports a classic metric payload with an unknown status', () => {
    const e = ingestError({ status: 'Sleeping', context: { name: 'r' } });
    assert.equal(e.firstMismatch.shape, 'azure-classic-metric');
    assert.equal(e.firstMismatch.path, 'status');
  });

  it('serializes the details for a 400 body', () => {
    const e = ingestError({});
    const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    assert.equal(typeof json.message, 'string');
    assert.deepEqual(json.shapesTried, SHAPES);
    assert.ok(json.firstMismatch);
  });

  it('turns a throwing getter into an IngestError', () => {
    const body = {
      get schemaId(): string {
        throw new Error('boom');
      },
    };
    const e = ingestError(body);
    assert.ok(e.details.mismatches.some((m) => m.actual.startsWith('unreadable')));
  });
});

describe('detection: leniency', () => {
  it('accepts key casing differences in the common schema', () => {
    const [a] = parseAlertPayload({
      SCHEMAID: 'AzureMonitorCommonAlertSchema',
      DATA: { ESSENTIALS: { ALERTRULE: 'R', MONITORCONDITION: 'resolved', SEVERITY: 'sev0', ALERTID: 'x' } },
    });
    assert.equal(a.rule, 'R');
    assert.equal(a.monitorCondition, 'Resolved');
    assert.equal(a.severity, 'Sev0');
  });

  it('defaults a missing monitorCondition to Fired and missing times to the received time', () => {
    const [a] = parseAlertPayload(
      { schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertRule: 'R' } } },
      { receivedAt: '2024-01-02T03:04:05Z' },
    );
    assert.equal(a.monitorCondition, 'Fired');
    assert.equal(a.firedAt, '2024-01-02T03:04:05.000Z');
    assert.equal(a.severity, 'Sev3');
    assert.match(a.alertId, /^azure:[0-9a-f]{32}$/);
  });

  it('gives the same synthetic id to the same id-less payload delivered twice', () => {
    const body = { schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertRule: 'R', firedDateTime: '2024-01-01T00:00:00Z' } } };
    assert.equal(parseAlertPayload(body)[0].alertId, parseAlertPayload(structuredClone(body))[0].alertId);
  });

  it('yields one alert per Alertmanager element and none for an empty group', () => {
    const body = {
      version: '4',
      groupKey: 'gk',
      status: 'firing',
      alerts: [
        { status: 'firing', labels: { alertname: 'A', severity: 'warning' }, fingerprint: 'f1', startsAt: '2024-01-01T00:00:00Z' },
        { status: 'resolved', labels: { alertname: 'A' }, fingerprint: 'f2', startsAt: '2024-01-01T00:00:00Z', endsAt: '2024-01-01T01:00:00Z' },
      ],
    };
    const out = parseAlertPayload(body);
    assert.deepEqual(
      out.map((a) => [a.alertId, a.monitorCondition, a.groupKey, a.severity]),
      [
        ['f1@2024-01-01T00:00:00.000Z', 'Fired', 'gk', 'Sev2'],
        ['f2@2024-01-01T00:00:00.000Z', 'Resolved', 'gk', 'Sev3'],
      ],
    );
    assert.deepEqual(parseAlertPayload({ version: '4', alerts: [] }), []);
  });

  it('uses the envelope status when an Alertmanager alert has none', () => {
    const [a] = parseAlertPayload({ version: '4', status: 'resolved', alerts: [{ labels: { alertname: 'X' } }] });
    assert.equal(a.monitorCondition, 'Resolved');
  });

  it('tells Grafana from Alertmanager without a version by its orgId/state', () => {
    const [g] = parseAlertPayload({ orgId: 1, state: 'ok', alerts: [{ labels: { alertname: 'G' } }] });
    assert.equal(g.family, 'grafana-v1');
    assert.equal(g.monitorCondition, 'Resolved');
    const [m] = parseAlertPayload({ alerts: [{ status: 'firing', labels: { alertname: 'M' } }] });
    assert.equal(m.family, 'alertmanager-v4');
  });

  it('accepts a numeric version', () => {
    assert.equal(parseAlertPayload({ version: 4, alerts: [{ status: 'firing', labels: {} }] })[0].family, 'alertmanager-v4');
  });

  it('never reads __proto__/constructor/prototype keys and never pollutes', () => {
    const body = JSON.parse(
      '{"version":"4","alerts":[{"status":"firing","labels":{"__proto__":{"polluted":"yes"},"constructor":"c","prototype":"p","alertname":"X"},"annotations":{"__proto__":"x"}}],"commonLabels":{"__proto__":{"polluted":"yes"}}}',
    ) as unknown;
    const [a] = parseAlertPayload(body);
    assert.deepEqual(a.labels, { alertname: 'X' });
    assert.equal(Object.getPrototypeOf(a.labels), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('skips unsafe and duplicate column names in log rows', () => {
    const [a] = parseAlertPayload({
      AlertRuleName: 'R',
      SearchQuery: 'T',
      SearchResult: {
        tables: [
          {
            name: 'PrimaryResult',
            columns: [{ name: '__proto__' }, { name: 'Computer' }, { name: 'Computer' }],
            rows: [[{ x: 1 }, 'vm1', 'vm2'], 'not-a-row'],
          },
        ],
      },
    });
    assert.deepEqual(a.logSearch?.rows, [{ Computer: 'vm1' }]);
    assert.deepEqual(a.configurationItems, ['vm1']);
  });
});

describe('timestamps', () => {
  const cases: Array<[unknown, string | undefined]> = [
    ['2019-03-22T13:58:24.3713213Z', '2019-03-22T13:58:24.371Z'],
    ['2018-08-03T09:52:26.739266876+02:00', '2018-08-03T07:52:26.739Z'],
    ['2017-03-29T15:43:08.0019532+00:00', '2017-03-29T15:43:08.001Z'],
    ['2024-01-01T00:00:00-0530', '2024-01-01T05:30:00.000Z'],
    ['2024-01-01 10:00:00', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
    ['3/22/2019 1:36:31 PM', '2019-03-22T13:36:31.000Z'],
    ['3/22/2019 12:05:00 AM', '2019-03-22T00:05:00.000Z'],
    ['12/01/2019 12:00:00 PM', '2019-12-01T12:00:00.000Z'],
    ['03/22/2019 13:36:31', '2019-03-22T13:36:31.000Z'],
    [1700000000000, '2023-11-14T22:13:20.000Z'],
    [1700000000, '2023-11-14T22:13:20.000Z'],
    ['0001-01-01T00:00:00Z', undefined],
    ['2019-02-31T00:00:00Z', undefined],
    ['13/01/2019 10:00:00', undefined],
    ['3/22/2019 13:00:00 PM', undefined],
    ['yesterday', undefined],
    ['', undefined],
    [null, undefined],
    [{}, undefined],
    [Number.NaN, undefined],
  ];
  for (const [input, want] of cases) {
    it(`parses ${JSON.stringify(input)} as ${want ?? 'absent'}`, () => assert.equal(parseTimestamp(input), want));
  }
});

describe('severity normalization', () => {
  const cases: Array<[unknown, string | undefined]> = [
    ['Sev0', 'Sev0'],
    ['sev 1', 'Sev1'],
    ['Sev-2', 'Sev2'],
    [3, 'Sev3'],
    ['4', 'Sev4'],
    ['critical', 'Sev0'],
    ['P1', 'Sev0'],
    ['error', 'Sev1'],
    ['high', 'Sev1'],
    ['warning', 'Sev2'],
    ['Warning', 'Sev2'],
    ['minor', 'Sev2'],
    ['info', 'Sev3'],
    ['Informational', 'Sev3'],
    ['low', 'Sev3'],
    ['debug', 'Sev4'],
    ['none', 'Sev4'],
    ['Sev5', undefined],
    [5, undefined],
    ['constructor', undefined],
    ['__proto__', undefined],
    [{}, undefined],
  ];
  for (const [input, want] of cases) {
    it(`maps ${JSON.stringify(input)} to ${want ?? 'unrecognised'}`, () => assert.equal(toSeverity(input), want));
  }
  it('maps numeric activity log levels by the EventLevel enum', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 0, '3'].map(fromEventLevel), ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4', undefined, 'Sev2']);
    assert.equal(fromEventLevel('Critical'), 'Sev0');
  });
});

describe('CI from an Alertmanager instance label', () => {
  for (const [input, want] of [
    ['https://server.example.org', 'server.example.org'],
    ['db-01.example.com:9100', 'db-01.example.com'],
    ['[::1]:9100', '::1'],
    ['http://user@host.example:8080/metrics?x=1', 'host.example'],
    ['10.0.0.1', '10.0.0.1'],
  ]) {
    it(`takes ${want} from ${input}`, () => assert.equal(hostOfInstance(input), want));
  }
});

describe('Azure severities outside Sev0–Sev4', () => {
  const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../test/fixtures/alerts/${name}.json`, import.meta.url), 'utf8')).cases[0].payload;
  const cases: [string, (b: any) => void, string][] = [
    ['common schema', (b) => (b.data.essentials.severity = 'Sev7'), 'data.essentials.severity'],
    ['metric alert (non-common)', (b) => (b.data.context.severity = 'Sev7'), 'data.context.severity'],
    ['classic metric alert', (b) => (b.context.severity = '9'), 'context.severity'],
    ['legacy Log Analytics alert', (b) => ((b.data ?? b).Severity = 'Sev5'), 'Severity'],
  ];
  const files: Record<string, string> = {
    'common schema': 'azure-common-metric',
    'metric alert (non-common)': 'azure-metric-v2',
    'classic metric alert': 'azure-classic-metric',
    'legacy Log Analytics alert': 'azure-legacy-loganalytics',
  };
  for (const [what, spoil, field] of cases) {
    it(`refuses a ${what} whose severity is not Sev0–Sev4, naming the field`, () => {
      const body = fixture(files[what]);
      spoil(body);
      const err = ingestError(body);
      assert.match(err.message, new RegExp(`${field.replaceAll('.', '\\.')}: expected one of "Sev0".."Sev4"`));
      assert.doesNotMatch(err.message, /matches no known alert schema/, 'the shape is known: only the field is wrong');
    });
  }
});
