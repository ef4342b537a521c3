/**
 * Prometheus Alertmanager webhook (`version: "4"`) and Grafana Alerting webhook (`version: "1"`, same envelope
 * plus `orgId`, `state`, `title`, `message`, per-alert `values`/`valueString`, `dashboardURL`, `panelURL`,
 * `silenceURL`). One NormalizedAlert per element of `alerts`; the envelope's `groupKey` is kept on each, so
 * grouping uses it instead of the rule.
 *
 * - State comes from each alert's `status` (`firing`/`resolved`), never from `endsAt` (firing alerts carry the Go
 *   zero time or a future time there); without a per-alert status, the envelope `status` (Grafana: `state`,
 *   where `alerting`/`pending`/`no_data`/`error` = Fired and `ok`/`normal`/`resolved`/`paused` = Resolved).
 * - alertId = `fingerprint@startsAt` (Alertmanager re-sends the same alert on every `repeat_interval`: same id, so
 *   recognised as a redelivery; a new firing after a resolve has a new startsAt, so a new id). Without a
 *   fingerprint, a hash of the sorted labels stands in.
 * - Severity from the `severity` label, else `priority` (see severity.ts); missing → Sev3.
 * - targets: the `instance` label; CI: the first of the labels `ci`, `configuration_item`, `hostname`, `host`,
 *   `node`, `nodename`, else the host part of `instance`.
 */
import type { MonitorCondition, NormalizedAlert, PayloadFamily } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { Details, httpLink, syntheticId } from './build.ts';
import { hostOfInstance, UniqueList } from './ci.ts';
import { parseTimestamp } from './dates.ts';
import type { Probe, Rec } from './json.ts';
import { asRec, jsonText, pick, safeEntries, str, stringMap, text, field } from './json.ts';
import { DEFAULT_SEVERITY, toSeverity } from './severity.ts';

const FIRED_STATES = ['firing', 'alerting', 'pending', 'no_data', 'nodata', 'error', 'alerting (nodata)', 'alerting (error)'];
const RESOLVED_STATES = ['resolved', 'ok', 'normal', 'paused', 'inactive'];

function conditionOf(v: unknown): MonitorCondition | undefined {
  const s = text(v)?.toLowerCase();
  if (s === undefined) return undefined;
  if (FIRED_STATES.includes(s)) return 'Fired';
  if (RESOLVED_STATES.includes(s)) return 'Resolved';
  return undefined;
}

const CI_LABELS = ['ci', 'configuration_item', 'hostname', 'host', 'node', 'nodename'];

function labelCi(labels: Record<string, string>): string | undefined {
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(labels)) if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), v);
  for (const k of CI_LABELS) {
    const v = lower.get(k)?.trim();
    if (v) return v;
  }
  const inst = lower.get('instance');
  if (inst) {
    const h = hostOfInstance(inst);
    return h || undefined;
  }
  return undefined;
}

function labelValue(labels: Record<string, string>, name: string): string | undefined {
  if (Object.hasOwn(labels, name)) return labels[name];
  for (const [k, v] of Object.entries(labels)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function sortedLabels(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

function parseEnvelope(family: PayloadFamily, body: unknown, root: Rec, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const grafana = family === 'grafana-v1';
  const alerts = p.arr(field(root, 'alerts'), 'alerts', 'an array of alerts');
  const envelopeCondition = grafana ? (conditionOf(pick(root, 'state')) ?? conditionOf(pick(root, 'status'))) : conditionOf(pick(root, 'status'));
  const groupKey = text(pick(root, 'groupKey'));
  const groupLabels = stringMap(pick(root, 'groupLabels'));
  const commonLabels = stringMap(pick(root, 'commonLabels'));
  const commonAnnotations = stringMap(pick(root, 'commonAnnotations'));
  const externalURL = httpLink(pick(root, 'externalURL'));
  const receiver = text(pick(root, 'receiver'));
  const truncated = str(pick(root, 'truncatedAlerts'));
  const out: NormalizedAlert[] = [];
  alerts.forEach((a, i) => {
    const path = `alerts[${i}]`;
    const r = p.obj(a, path);
    const statusRaw = pick(r, 'status');
    let condition = conditionOf(statusRaw);
    if (condition === undefined) {
      if (statusRaw !== undefined || envelopeCondition === undefined)
        p.fail(`${path}.status`, grafana ? '"firing" or "resolved" (or an envelope state)' : '"firing" or "resolved"', statusRaw);
      condition = envelopeCondition;
    }
    p.pass();
    const labels = stringMap(pick(r, 'labels'));
    stringMap(commonLabels, labels);
    const annotations = stringMap(pick(r, 'annotations'));
    stringMap(commonAnnotations, annotations);

    const rule =
      labelValue(labels, 'alertname') ??
      groupLabels.alertname ??
      (grafana ? text(pick(root, 'title')) : undefined) ??
      groupKey ??
      receiver ??
      (grafana ? 'Grafana alert' : 'Alertmanager alert');
    const startsAt = parseTimestamp(pick(r, 'startsAt'));
    const firedAt = startsAt ?? ctx.receivedAt;
    let resolvedAt: string | undefined;
    if (condition === 'Resolved') resolvedAt = parseTimestamp(pick(r, 'endsAt')) ?? ctx.receivedAt;
    const fingerprint = text(pick(r, 'fingerprint'));
    const alertId = fingerprint ? `${fingerprint}@${startsAt ?? ''}` : syntheticId(grafana ? 'grafana' : 'am', [sortedLabels(labels), startsAt]);

    const targets = new UniqueList();
    const cis = new UniqueList();
    const instance = labelValue(labels, 'instance');
    targets.add(instance);
    cis.add(labelCi(labels));

    const description =
      text(annotations.description) ??
      text(annotations.summary) ??
      text(annotations.message) ??
      (grafana && alerts.length === 1 ? text(pick(root, 'message')) : undefined) ??
      '';
    const details = new Details();
    for (const [k, v] of Object.entries(annotations)) {
      if (v === description) continue;
      details.add(k === 'summary' ? 'Summary' : k === 'runbook_url' ? 'Runbook' : `Annotation ${k}`, v);
    }
    if (grafana) {
      const values = asRec(pick(r, 'values'));
      if (values) {
        const pairs = safeEntries(pick(r, 'values')).map(([k, v]) => `${k}=${str(v) ?? jsonText(v) ?? ''}`);
        details.add('Values', pairs.join(', '));
      } else details.add('Value', pick(r, 'valueString'));
      details.add('Dashboard', httpLink(pick(r, 'dashboardURL')));
      details.add('Panel', httpLink(pick(r, 'panelURL')));
      details.add('Silence', httpLink(pick(r, 'silenceURL')));
      details.add('Organization', pick(root, 'orgId'));
    }
    details.add('Receiver', receiver);
    details.add('Group key', groupKey);
    if (truncated && truncated !== '0') details.add('Alerts truncated from this notification', truncated);

    const link =
      httpLink(pick(r, 'generatorURL')) ?? (grafana ? (httpLink(pick(r, 'panelURL')) ?? httpLink(pick(r, 'dashboardURL'))) : undefined) ?? externalURL;
    out.push({
      family,
      alertId,
      rule,
      ...(groupKey ? { groupKey } : {}),
      severity: toSeverity(labelValue(labels, 'severity')) ?? toSeverity(labelValue(labels, 'priority')) ?? DEFAULT_SEVERITY,
      signalType: 'Unknown',
      monitorCondition: condition,
      firedAt,
      ...(resolvedAt ? { resolvedAt } : {}),
      targets: targets.items,
      configurationItems: cis.items,
      description,
      ...(link ? { link } : {}),
      labels,
      details: details.items,
      raw: body,
    });
  });
  return out;
}

const GRAFANA_MARKERS = ['orgId', 'state', 'title', 'message'];

export function parseAlertmanager(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const version = pick(root, 'version');
  if (version !== undefined && str(version)?.trim() !== '4') p.fail('version', '"4"', version);
  if (version === undefined && GRAFANA_MARKERS.some((k) => pick(root, k) !== undefined) && pick(root, 'alerts') !== undefined)
    p.fail('version', '"4" (orgId/state/title present: Grafana?)', version);
  if (version !== undefined) p.strong();
  return parseEnvelope('alertmanager-v4', body, root, p, ctx);
}

export function parseGrafana(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const version = pick(root, 'version');
  if (version !== undefined) {
    if (str(version)?.trim() !== '1') p.fail('version', '"1"', version);
    p.strong();
  } else {
    if (!GRAFANA_MARKERS.slice(0, 2).some((k) => pick(root, k) !== undefined)) p.fail('version', '"1" (or orgId/state)', version);
    p.pass();
  }
  return parseEnvelope('grafana-v1', body, root, p, ctx);
}
