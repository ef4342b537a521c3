import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTemplate, parsePlaceholder, renderTemplate } from './placeholders.ts';
import { mkAlert } from './testkit.ts';

const alert = mkAlert({
  groupKey: undefined,
  resolvedAt: undefined,
  labels: { team: 'ops', 'app.kubernetes.io/name': 'shop', 'my-label': 'x' },
  targets: ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1', '/t2'],
  configurationItems: ['vm-1', 'vm-2'],
  logSearch: { query: 'Heartbeat | take 1', interval: 'PT5M', rows: [], resultCount: 7 },
});
const scope = { alert, ci: 'vm-2', row: { Computer: 'vm-2', Disk: 'C:', Free: 1.5, Empty: null } };

describe('placeholders: rendering', () => {
  const cases: Array<[string, string]> = [
    ['{{alert.rule}}', 'High CPU'],
    ['{{ alert.severity }}', 'Sev2'],
    ['{{alert.monitorCondition}}', 'Fired'],
    ['{{alert.firedAt}}', '2024-01-01T10:00:00.000Z'],
    ['{{alert.description}}', 'CPU above 90%'],
    ['{{alert.link}}', alert.link ?? ''],
    ['{{alert.targets[0]}}', alert.targets[0]],
    ['{{alert.targets[1]}}', '/t2'],
    ['{{alert.targets[5]}}', ''],
    ['{{alert.targets}}', `${alert.targets[0]}, /t2`],
    ['{{alert.configurationItems}}', 'vm-1, vm-2'],
    ['{{alert.configurationItems[1]}}', 'vm-2'],
    ['{{alert.labels.team}}', 'ops'],
    ['{{alert.labels.my-label}}', 'x'],
    ['{{alert.labels["app.kubernetes.io/name"]}}', 'shop'],
    ["{{alert.labels['app.kubernetes.io/name']}}", 'shop'],
    ['{{alert.labels.missing}}', ''],
    ['{{alert.labels}}', 'team=ops, app.kubernetes.io/name=shop, my-label=x'],
    ['{{alert.logSearch.query}}', 'Heartbeat | take 1'],
    ['{{alert.logSearch.interval}}', 'PT5M'],
    ['{{alert.logSearch.resultCount}}', '7'],
    ['{{alert.logSearch.linkToResults}}', ''],
    ['{{alert.resolvedAt}}', ''],
    ['{{alert.groupKey}}', ''],
    ['{{unit.ci}}', 'vm-2'],
    ['{{row.Computer}}', 'vm-2'],
    ['{{row.disk}}', 'C:'],
    ['{{row.Free}}', '1.5'],
    ['{{row.Empty}}', ''],
    ['{{row.Nope}}', ''],
    ['{{alert.nope}}', ''],
    ['{{alert.rule.length}}', ''],
    ['{{alert.labels.__proto__}}', ''],
    ['{{alert.labels.constructor}}', ''],
    ['{{alert.constructor}}', ''],
    ['{{alert.__proto__.polluted}}', ''],
    ['{{row.constructor}}', ''],
    ['{{process.env.HOME}}', ''],
    ['{{ 1 + 1 }}', ''],
    ['{{alert.rule}} on {{alert.targets[0]}} ({{alert.labels.team}})', `High CPU on ${alert.targets[0]} (ops)`],
    ['no placeholders', 'no placeholders'],
    ['{{alert.rule', '{{alert.rule'],
    ['{alert.rule}', '{alert.rule}'],
  ];
  for (const [template, want] of cases) {
    it(`renders ${JSON.stringify(template)} as ${JSON.stringify(want)}`, () => assert.equal(renderTemplate(template, scope), want));
  }

  it('does not re-expand placeholders that come from alert data', () => {
    const evil = mkAlert({ rule: '{{alert.labels.secret}}', labels: { secret: 'S' } });
    assert.equal(renderTemplate('{{alert.rule}}', { alert: evil }), '{{alert.labels.secret}}');
  });

  it('renders row placeholders as "" outside per-row mode', () => {
    assert.equal(renderTemplate('[{{row.Computer}}]', { alert }), '[]');
  });

  it('does not read inherited properties of labels', () => {
    assert.equal(renderTemplate('{{alert.labels.toString}}{{alert.labels.hasOwnProperty}}', { alert }), '');
  });
});

describe('placeholders: configuration-time checks', () => {
  it('accepts every documented placeholder', () => {
    const t =
      '{{alert.rule}} {{alert.severity}} {{alert.targets[0]}} {{alert.configurationItems}} {{alert.labels.team}} {{alert.firedAt}} {{alert.description}} {{alert.link}} {{alert.monitorCondition}} {{alert.logSearch.query}} {{unit.ci}}';
    assert.deepEqual(checkTemplate(t, { perLog: false }), []);
    assert.deepEqual(checkTemplate('{{row.Computer}}', { perLog: true }), []);
  });

  it('names the valid placeholders for an unknown one', () => {
    const [p] = checkTemplate('x {{alert.rulez}} y', { perLog: false });
    assert.equal(p.placeholder, '{{alert.rulez}}');
    assert.match(p.message, /unknown placeholder "\{\{alert.rulez\}\}"/);
    assert.ok(p.allowed.includes('alert.rule') && p.allowed.includes('alert.labels.NAME'));
  });

  it('refuses row placeholders without CreateOneWIPerLog', () => {
    const [p] = checkTemplate('{{row.Computer}}', { perLog: false });
    assert.match(p.message, /needs CreateOneWIPerLog/);
    assert.ok(!p.allowed.some((a) => a.startsWith('row.')));
  });

  it('reports unterminated placeholders and forbidden names', () => {
    assert.match(checkTemplate('{{alert.rule', { perLog: false })[0].message, /unterminated/);
    assert.match(checkTemplate('{{alert.labels.__proto__}}', { perLog: false })[0].message, /forbidden/);
    assert.equal(checkTemplate('{{alert.rule}} {{alert.x}} {{alert.y}}', { perLog: false }).length, 2);
  });

  it('parses bracket and dot paths but rejects malformed ones', () => {
    assert.deepEqual(parsePlaceholder('alert.targets[3]'), { ok: true, placeholder: { kind: 'list', field: 'targets', index: 3 } });
    assert.deepEqual(parsePlaceholder('alert.labels["a b"]'), { ok: true, placeholder: { kind: 'label', name: 'a b' } });
    for (const bad of ['', '.alert.rule', 'alert..rule', 'alert.targets[x]', 'alert.targets[0]x', 'alert.rule()', 'alert["rule"]x'])
      assert.equal(parsePlaceholder(bad).ok, false, bad);
  });
});
