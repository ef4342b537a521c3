/**
 * A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by .ci/run) on a free port,
 * routing every alert to one webhook with `send_resolved`. Tests push alerts to its v2 API as Prometheus does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './stores.ts';
import { eventually, freePort } from './wait.ts';

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

export interface AmAlertInput {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  /** In the future while firing (Prometheus sends now + a few evaluation intervals); the past resolves it. */
  endsAt: string;
}

export interface RealAlertmanager {
  url: string;
  push(alerts: AmAlertInput[]): Promise<void>;
  /** What Alertmanager logged (failed notifications show here). */
  log(): string;
  stop(): Promise<void>;
}

export async function startAlertmanager(webhookUrl: string, route: { groupWait: string; groupInterval: string }): Promise<RealAlertmanager> {
  if (!fs.existsSync(ALERTMANAGER_BINARY)) throw new Error(`${ALERTMANAGER_BINARY} is missing: apt-get install prometheus-alertmanager (.ci/run does)`);
  const dir = tempDir('itsmc-am-');
  const config = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(
    config,
    [
      'route:',
      '  receiver: itsmc',
      "  group_by: ['alertname']",
      `  group_wait: ${route.groupWait}`,
      `  group_interval: ${route.groupInterval}`,
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: itsmc',
      '    webhook_configs:',
      `      - url: '${webhookUrl}'`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    ALERTMANAGER_BINARY,
    [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    proc.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(`Alertmanager ready on ${url}`, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 20_000, 100);
  } catch (err) {
    await stop();
    throw new Error(`${String(err)}\n${output}`, { cause: err });
  }
  return {
    url,
    async push(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!res.ok) throw new Error(`Alertmanager refused the alerts: ${res.status} ${await res.text()}`);
    },
    log: () => output,
    stop,
  };
}
