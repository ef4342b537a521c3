import type { Command } from 'commander';
import { ApiClient, CliError, output } from './api-client.ts';

interface LogsTable {
  name: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

interface LogsAnswer {
  tables?: LogsTable[];
  render?: { visualization: string };
  error?: { code?: string; message?: string; details?: { message?: string; innererror?: { message?: string } }[] };
}

/** The innermost message of a Log Analytics error (`error.innererror.innererror…`), with its position. */
export function logsErrorMessage(body: unknown, status: number): string {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (!error) return `${status}: ${typeof body === 'string' ? body.slice(0, 500) : 'request failed'}`;
  let inner: Record<string, unknown> | undefined = error;
  while (inner?.innererror && typeof inner.innererror === 'object') inner = inner.innererror as Record<string, unknown>;
  const message = typeof inner?.message === 'string' && inner !== error ? `${error.message}: ${inner.message}` : String(error.message ?? 'request failed');
  return `${status} ${String(inner?.code ?? error.code ?? '')}: ${message}`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(table: LogsTable): string {
  const lines = [table.columns.map((c) => csvCell(c.name)).join(',')];
  for (const row of table.rows) lines.push(row.map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerQueryCommand(program: Command): void {
  program
    .command('query <kql>')
    .description("run a KQL query against a workspace (the Logs query API); '-' reads the query from stdin")
    .option('-w, --workspace <ws>', 'workspace', 'default')
    .option('--timespan <iso8601>', 'time range on TimeGenerated: a duration (P1D, PT6H) or an interval (start/end)')
    .option('--csv', 'print the rows as CSV with a header line')
    .action(async (kql: string, o: { url?: string; workspace: string; timespan?: string; token?: string; json?: boolean; csv?: boolean }) => {
      if (o.json && o.csv) throw new CliError('choose one of --json and --csv');
      const query = kql === '-' ? await readStdin() : kql;
      const client = new ApiClient(o);
      const base = client.base;
      let response: Response;
      try {
        response = await fetch(`${base}/v1/workspaces/${encodeURIComponent(o.workspace)}/query`, {
          method: 'POST',
          headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query, ...(o.timespan ? { timespan: o.timespan } : {}) }),
        });
      } catch (err) {
        const e = err as { cause?: { code?: string }; message?: string };
        throw new CliError(`cannot reach the connector at ${base}: ${e.cause?.code ?? e.message} (is it running? set --url or ITSMC_URL)`);
      }
      const text = await response.text();
      let body: LogsAnswer | undefined;
      try {
        body = text ? (JSON.parse(text) as LogsAnswer) : undefined;
      } catch {
        body = undefined;
      }
      if (!response.ok || !body?.tables)
        throw new CliError(
          logsErrorMessage(body ?? text, response.status) + (response.status === 401 ? `\n${client.unauthorizedHint()}` : ''),
          response.status,
        );
      if (o.json) {
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      const table = body.tables[0];
      if (o.csv) process.stdout.write(toCsv(table));
      else {
        const names = table.columns.map((c) => c.name);
        output(
          table.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i] === '' ? null : r[i]]))),
          false,
          names,
        );
        process.stderr.write(`${table.rows.length} row(s)${body.render ? `; render: ${body.render.visualization}` : ''}\n`);
      }
      if (body.error) process.stderr.write(`itsmc: warning: ${body.error.details?.[0]?.innererror?.message ?? body.error.message}\n`);
    });
}
