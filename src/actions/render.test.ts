import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAlertPayload } from '../ingest/detect.ts';
import { expandAlert } from './grouping.ts';
import {
  renderCloseNotes,
  renderDescription,
  renderFoldedNote,
  renderOccurrenceNote,
  renderReopenNote,
  renderResolveNote,
  renderTitle,
  DEFAULT_FIELD_LIMITS,
} from './render.ts';
import type { LengthUnit } from './text.ts';
import { measure, oneLine, truncateText, wellFormed } from './text.ts';
import { serviceNowPartner } from '../partners/servicenow/descriptor.ts';
import { mkAlert, mkCfg } from './testkit.ts';

/** Valid UTF-16 (no lone surrogates) and a lossless UTF-8 round trip. */
function assertWellFormed(s: string): void {
  assert.equal(wellFormed(s), s, 'no lone surrogates');
  assert.equal(Buffer.from(s, 'utf8').toString('utf8'), s, 'UTF-8 round trip');
}

describe('truncateText: never inside a character', () => {
  const samples: Array<[string, string]> = [
    ['ASCII', 'The quick brown fox jumps over the lazy dog'],
    ['CJK', '服务器磁盘空间不足，请立即检查数据库主机的存储使用情况'],
    ['emoji (surrogate pairs)', '🔥🚨💾🖥️📈🔥🚨💾🖥️📈🔥🚨💾🖥️📈'],
    ['ZWJ family emoji', '👩‍👩‍👧‍👦👨‍👨‍👧👩‍💻🏳️‍🌈👩‍👩‍👧‍👦👨‍👨‍👧'],
    ['combining marks', 'e\u0301a\u0300o\u0302u\u0308n\u0303'.repeat(5)],
    ['flags', '🇩🇪🇫🇷🇯🇵🇺🇸🇧🇷🇮🇳'],
    ['mixed', 'CPU 🔥 on 服务器-01 — café naïve 👩‍💻 done'],
  ];
  for (const unit of ['utf16', 'codepoint', 'utf8'] as LengthUnit[]) {
    for (const [name, text] of samples) {
      it(`cuts ${name} at every limit within ${unit} budget, on a grapheme boundary, with an ellipsis`, () => {
        const total = measure(text, unit);
        for (let max = 0; max <= total + 2; max++) {
          const out = truncateText(text, max, unit);
          assertWellFormed(out);
          assert.ok(measure(out, unit) <= max, `${measure(out, unit)} > ${max}`);
          if (max >= total) assert.equal(out, text);
          else if (out.length > 0) {
            const body = out.endsWith('…') ? out.slice(0, -1) : out;
            assert.ok(text.startsWith(body), 'a prefix of the input');
            // The prefix ends on a grapheme boundary of the input.
            const boundaries = new Set([0]);
            let pos = 0;
            for (const { segment } of new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)) boundaries.add((pos += segment.length));
            assert.ok(boundaries.has(body.length) || boundaries.has(text.slice(0, body.length).trimEnd().length), `cut at ${body.length}`);
          }
        }
      });
    }
  }

  it('counts UTF-8 bytes when asked: 3 bytes per CJK character, 4 per emoji', () => {
    assert.equal(truncateText('服务器磁盘', 10, 'utf8'), '服务…'); // 6 + 3
    assert.equal(truncateText('🔥🔥🔥', 9, 'utf8'), '🔥…'); // 4 + 3
    assert.equal(truncateText('🔥🔥🔥', 5, 'utf16'), '🔥🔥…');
    assert.equal(truncateText('🔥🔥🔥', 2, 'codepoint'), '🔥…');
  });

  it('keeps ZWJ sequences whole', () => {
    assert.equal(truncateText('ab👩‍👩‍👧‍👦cd', 5, 'utf16'), 'ab…');
    assert.equal(truncateText('ab👩‍👩‍👧‍👦cd', 14, 'utf16'), 'ab👩‍👩‍👧‍👦…');
  });

  it('replaces lone surrogates from hostile input', () => {
    assert.equal(truncateText('a\uD800b', 10), 'a\uFFFDb');
    assert.equal(truncateText('\uDC00'.repeat(5), 3), '\uFFFD\uFFFD…');
  });

  it('falls back to code points for a single enormous grapheme cluster', () => {
    const zalgo = `a${'\u0301'.repeat(5000)}`;
    const out = truncateText(zalgo, 100);
    assert.ok(out.length <= 100 && out.length > 50);
    assertWellFormed(out);
  });

  // How fast it is belongs in bench/; here only that a 3 MB input is cut to the limit.
  it('truncates a 3 MB input to the limit', () => {
    const big = '日本語🔥'.repeat(500_000);
    assert.equal(measure(truncateText(big, 4000), 'utf16') <= 4000, true);
  });

  it('collapses control characters and line breaks for one-line fields', () => {
    assert.equal(oneLine(' a\r\nb\tc\u0000\u2028d  e '), 'a b c d e');
  });
});

describe('render: titles', () => {
  const unitFor = (p: Parameters<typeof mkAlert>[0], cfg = mkCfg()) => expandAlert(mkAlert(p), cfg, 'a1')[0];

  it('titles a metric alert with severity, rule and CI', () => {
    assert.equal(renderTitle(unitFor({})), '[Sev2] High CPU on vm-1');
  });

  it('summarizes several CIs and skips a CI already in the rule name', () => {
    assert.equal(renderTitle(unitFor({ configurationItems: ['a', 'b', 'c'] })), '[Sev2] High CPU on a (+2 more)');
    assert.equal(renderTitle(unitFor({ rule: 'Failure Anomalies - shop', configurationItems: ['shop'] })), '[Sev2] Failure Anomalies - shop');
  });

  it('titles per-CI units with their own CI', () => {
    const units = expandAlert(mkAlert({ configurationItems: ['a', 'b'] }), mkCfg({ CreateOneWIPerCI: true }), 'a1');
    assert.deepEqual(
      units.map((u) => renderTitle(u)),
      ['[Sev2] High CPU on a', '[Sev2] High CPU on b'],
    );
  });

  it("is one line and fits ServiceNow short_description (160), not ITSMC's 40", () => {
    const title = renderTitle(unitFor({ rule: `Disk\nfull ${'磁盘空间不足🔥'.repeat(40)}` }));
    assert.ok(title.length <= 160 && title.length > 40);
    assert.ok(!title.includes('\n'));
    assert.ok(title.endsWith('…'));
    assertWellFormed(title);
  });

  it('uses the description when there is no CI (service health), never a subscription id', () => {
    const u = unitFor({
      configurationItems: [],
      targets: ['/subscriptions/1111'],
      rule: 'Service health',
      description: 'VMs - West Europe - Connectivity\nmore',
    });
    assert.equal(renderTitle(u), '[Sev2] Service health: VMs - West Europe - Connectivity');
    assert.equal(renderTitle(unitFor({ configurationItems: [], targets: [], description: '' })), '[Sev2] High CPU');
  });

  it('honours other limits', () => {
    assert.equal(renderTitle(unitFor({ rule: 'x'.repeat(100) }), { ...DEFAULT_FIELD_LIMITS, titleMax: 20 }).length, 20);
  });
});

describe('render: descriptions', () => {
  it('describes a metric alert: rule, severity, condition, fired time, targets, link, details, labels', () => {
    const [alert] = parseAlertPayload({
      schemaId: 'azureMonitorCommonAlertSchema',
      data: {
        essentials: {
          alertId: 'id-1',
          alertRule: 'High CPU',
          severity: 'Sev1',
          signalType: 'Metric',
          monitorCondition: 'Fired',
          monitoringService: 'Platform',
          alertTargetIDs: ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1'],
          firedDateTime: '2024-01-01T10:00:00Z',
          description: 'CPU high',
        },
        alertContext: {
          condition: {
            windowSize: 'PT5M',
            allOf: [{ metricName: 'Percentage CPU', operator: 'GreaterThan', threshold: '90', timeAggregation: 'Average', metricValue: 97 }],
          },
        },
        customProperties: { team: 'ops' },
      },
    });
    const d = renderDescription(expandAlert(alert, mkCfg(), 'a1')[0]);
    assert.equal(
      d,
      [
        'Alert rule: High CPU',
        'Severity: Sev1',
        'Condition: Fired',
        'Fired at (UTC): 2024-01-01T10:00:00.000Z',
        'Signal: Metric (azure-common-metric)',
        'Configuration items: vm-1',
        'Targets:',
        '- /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1',
        'Description: CPU high',
        'Link: https://portal.azure.com/#resource/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1',
        'Alert id: id-1',
        '',
        'Criterion: Percentage CPU Average GreaterThan 90 over PT5M; value 97',
        'Monitoring service: Platform',
        '',
        'Labels: team=ops',
      ].join('\n'),
    );
  });

  it('describes a log search alert the ITSMC way: query, interval, affected CIs, results', () => {
    const rows = [
      { Computer: 'vm-a', Free: 3 },
      { Computer: 'vm-b', Free: 4 },
    ];
    const alert = mkAlert({
      family: 'azure-common-logsearch',
      signalType: 'Log',
      rule: 'Low disk',
      configurationItems: ['vm-a', 'vm-b'],
      targets: [],
      logSearch: {
        query: 'Perf | where Free < 10',
        interval: 'PT5M',
        windowStart: '2024-01-01T09:55:00.000Z',
        windowEnd: '2024-01-01T10:00:00.000Z',
        resultCount: 2,
        rows,
      },
    });
    const d = renderDescription(expandAlert(alert, mkCfg(), 'a1')[0]);
    for (const line of [
      'Alert (alert rule name) : Low disk',
      'Search Query : Perf | where Free < 10',
      'Search Start Time(UTC) : 2024-01-01T09:55:00.000Z',
      'Search End Time(UTC) : 2024-01-01T10:00:00.000Z',
      'Search interval : PT5M',
      'AffectedConfigurationItems : [vm-a, vm-b]',
      'Results (2 of 2):',
      '- Computer=vm-a; Free=3',
    ])
      assert.ok(d.includes(line), line);
  });

  it('puts the row first in per-row mode so it survives the cut', () => {
    const rows = [{ Computer: 'vm-a', Message: 'disk error' }];
    const alert = mkAlert({ logSearch: { query: `Q ${'x'.repeat(5000)}`, rows }, description: 'd'.repeat(3000) });
    const u = expandAlert(alert, mkCfg({ CreateOneWIPerLog: true }), 'a1')[0];
    const d = renderDescription(u, { ...DEFAULT_FIELD_LIMITS, descriptionMax: 1000 });
    assert.ok(d.length <= 1000);
    assert.match(d, /<-- Log Entry -->\nComputer: vm-a\nMessage: disk error/);
  });

  it('fits the description limit without breaking characters, whatever the payload', () => {
    const alert = mkAlert({ description: '警告🔥'.repeat(5000), targets: Array.from({ length: 50 }, (_, i) => `/t/${i}`) });
    const d = renderDescription(expandAlert(alert, mkCfg(), 'a1')[0]);
    assert.ok(d.length <= 4000);
    assertWellFormed(d);
    assert.match(d, /- … \(\+40 more\)/);
    const d8 = renderDescription(expandAlert(alert, mkCfg(), 'a1')[0], { titleMax: 100, descriptionMax: 1000, noteMax: 500, unit: 'utf8' });
    assert.ok(Buffer.byteLength(d8) <= 1000);
    assertWellFormed(d8);
  });
});

describe('render: notes', () => {
  const u = expandAlert(mkAlert({ alertId: 'id-7' }), mkCfg(), 'a1')[0];
  const r = expandAlert(mkAlert({ alertId: 'id-7', monitorCondition: 'Resolved', resolvedAt: '2024-01-01T11:00:00.000Z' }), mkCfg(), 'a1')[0];

  it('writes an occurrence note with new CIs and folded occurrences', () => {
    assert.equal(
      renderOccurrenceNote(u, { newCis: ['vm-9'], folded: 3, foldedSince: '2024-01-01T09:59:00.000Z' }),
      [
        'Alert fired again at 2024-01-01T10:00:00.000Z (Sev2): High CPU on vm-1.',
        'Description: CPU above 90%',
        'New configuration items: vm-9',
        '3 further alert events since 2024-01-01T09:59:00.000Z folded into this note.',
        'Alert id: id-7',
        `Link: ${u.alert.link}`,
      ].join('\n'),
    );
  });

  it('writes resolve notes for both auto-resolve modes', () => {
    assert.equal(
      renderResolveNote(r, 'resolve', { folded: 0 }),
      'Alert resolved at 2024-01-01T11:00:00.000Z: High CPU on vm-1.\nResolved automatically by OpenITSMC because the alert condition cleared.\nAlert id: id-7',
    );
    assert.match(renderResolveNote(r, 'note', { folded: 1 }), /left open \(auto-resolve mode "note"\).*\n1 further alert event since the last note folded/s);
  });

  it('renders close notes from the action template or a default', () => {
    assert.equal(
      renderCloseNotes(r, 'Auto-closed: {{alert.rule}} cleared at {{alert.resolvedAt}}'),
      'Auto-closed: High CPU cleared at 2024-01-01T11:00:00.000Z',
    );
    assert.match(renderCloseNotes(r, undefined), /^Alert "High CPU" resolved at 2024-01-01T11:00:00.000Z/);
  });

  it('writes reopen and folded notes', () => {
    assert.match(renderReopenNote(u, '2024-01-01T09:30:00.000Z', []), /^Reopened by OpenITSMC/);
    assert.equal(
      renderFoldedNote({ count: 12, since: '2024-01-01T10:00:00.000Z', latest: { alertId: 'x', condition: 'Fired', at: '2024-01-01T10:00:50.000Z' } }),
      '12 further alert events since 2024-01-01T10:00:00.000Z.\nLatest: Fired at 2024-01-01T10:00:50.000Z (alert id x).',
    );
  });

  it('fits notes to noteMax', () => {
    const big = expandAlert(
      mkAlert({ description: '🔥'.repeat(10_000), configurationItems: Array.from({ length: 200 }, (_, i) => `vm-${i}`) }),
      mkCfg(),
      'a1',
    )[0];
    const note = renderOccurrenceNote(big, { newCis: big.cis, folded: 0 }, { ...DEFAULT_FIELD_LIMITS, noteMax: 300 });
    assert.ok(note.length <= 300);
    assertWellFormed(note);
  });

  it("maps severities to ServiceNow event severities (its descriptor's scale), Resolved to Clear", () => {
    const eventSeverity = serviceNowPartner.severity.eventSeverity;
    assert.deepEqual(
      (['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'] as const).map((s) => eventSeverity(s, 'Fired')),
      ['1', '2', '3', '4', '5'],
    );
    assert.equal(eventSeverity('Sev0', 'Resolved'), '0');
  });
});
