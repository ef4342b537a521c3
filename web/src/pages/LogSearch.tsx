import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, ApiError, runQuery, wsPath, type LogsResult } from '../lib/api';
import { useSession } from '../lib/session';
import { navigate, useLocation } from '../lib/router';
import { loadSchema } from '../lib/schema';
import { CHART_KINDS, toChartSpec, type ChartKind } from '../lib/chart-data';
import { Chart, Empty, ErrorBox, Loading, PageHeader } from '../components/ui';
import { DataTable } from '../components/DataTable';
import { Modal } from '../components/Modal';
import type { EngineDiagnostic } from '../components/KqlEditor';
import { useConnections } from './Connections';
import { useWorkItemTypes } from '../lib/partners';

const KqlEditor = lazy(() => import('../components/KqlEditor'));

const DEFAULT_QUERY =
  'ServiceDesk_CL\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| summarize count() by ServiceDeskWorkItemType_s, Priority_s\n| render columnchart';
const HISTORY_MAX = 25;
const historyKey = (ws: string) => `itsmc.history.${ws}`;

function readHistory(ws: string): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(historyKey(ws)) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The engine's error position: `innererror.innererror` carries line, pos, offset and length. */
function diagnosticOf(err: unknown): EngineDiagnostic | null {
  if (!(err instanceof ApiError)) return null;
  const inner = err.body?.error?.innererror?.innererror;
  if (!inner || typeof inner.offset !== 'number') return null;
  return { message: inner.message ?? err.message, offset: inner.offset, length: inner.length ?? 0 };
}

function toCsv(r: LogsResult): string {
  const t = r.tables[0];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [t.columns.map((c) => cell(c.name)).join(','), ...t.rows.map((row) => row.map(cell).join(','))].join('\r\n') + '\r\n';
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export default function LogSearch() {
  const { workspace, canWrite } = useSession();
  const { query: params } = useLocation();
  const [text, setText] = useState(() => params.get('q') ?? readHistory(workspace)[0] ?? DEFAULT_QUERY);
  const [history, setHistory] = useState(() => readHistory(workspace));
  const [workItemRow, setWorkItemRow] = useState<Record<string, unknown> | null>(null);
  const schema = useQuery({ queryKey: ['schema', workspace], queryFn: () => loadSchema(workspace), staleTime: 300_000 });
  const run = useMutation({ mutationFn: (q: string) => runQuery(workspace, q) });
  const dark = document.documentElement.dataset.theme === 'dark';

  useEffect(() => {
    const q = params.get('q');
    if (q !== null) setText(q);
  }, [params]);

  const execute = useCallback(
    (q: string) => {
      if (!q.trim()) return;
      const next = [q, ...readHistory(workspace).filter((h) => h !== q)].slice(0, HISTORY_MAX);
      localStorage.setItem(historyKey(workspace), JSON.stringify(next));
      setHistory(next);
      run.mutate(q);
    },
    [run, workspace],
  );

  const result = run.data;
  const table = result?.tables[0];
  const diagnostic = diagnosticOf(run.error);
  const chartKind = result?.render && CHART_KINDS.includes(result.render.visualization) ? (result.render.visualization as ChartKind) : null;
  const spec = useMemo(() => (table && chartKind ? toChartSpec(table, chartKind) : null), [table, chartKind]);
  const truncated = result?.error?.details?.[0]?.innererror?.message;

  function submit(e: FormEvent) {
    e.preventDefault();
    execute(text);
  }

  return (
    <>
      <PageHeader title="Log search">
        <label>
          <span className="sr-only">Query history</span>
          <select
            aria-label="Query history"
            value=""
            onChange={(e) => {
              setText(e.target.value);
              navigate('/logs', true);
            }}
            disabled={history.length === 0}
          >
            <option value="">History ({history.length})</option>
            {history.map((h, i) => (
              <option key={i} value={h}>
                {h.replace(/\s+/g, ' ').slice(0, 90)}
              </option>
            ))}
          </select>
        </label>
      </PageHeader>
      <form onSubmit={submit} className="card" aria-label="Query">
        <Suspense fallback={<Loading what="the KQL editor" />}>
          <KqlEditor value={text} onChange={setText} onRun={execute} schema={schema.data} database={workspace} diagnostic={diagnostic} dark={dark} />
        </Suspense>
        <div className="row-buttons" style={{ marginTop: 8, alignItems: 'center' }}>
          <button type="submit" className="primary" disabled={run.isPending}>
            {run.isPending ? 'Running…' : 'Run'}
          </button>
          <span className="help">Ctrl+Enter (⌘+Enter) runs the query. {schema.error ? 'Schema not loaded: completion works without table columns.' : ''}</span>
          {table && table.rows.length > 0 && (
            <button type="button" onClick={() => download(`${workspace}-query.csv`, toCsv(result!))}>
              Export CSV
            </button>
          )}
        </div>
      </form>
      <section aria-label="Results" className="results">
        {run.isPending && <Loading what="results" />}
        {run.error && (
          <div className="error" role="alert" data-diagnostic={diagnostic ? `${diagnostic.offset}:${diagnostic.length}` : ''}>
            <strong>The query failed</strong>
            <p>{diagnostic ? diagnostic.message : (run.error as Error).message}</p>
          </div>
        )}
        {truncated && (
          <p className="help" role="status">
            ⚠ {truncated}
          </p>
        )}
        {!run.isPending && !run.error && !result && (
          <Empty>Write a query and press Run (or Ctrl+Enter). Tables: ServiceDesk_CL, ServiceDeskLog_CL, ItsmActionOutcome_CL.</Empty>
        )}
        {table && table.rows.length === 0 && <Empty>The query returned no rows.</Empty>}
        {spec && table && table.rows.length > 0 && (
          <div className="card" style={{ marginTop: 12 }}>
            <Chart spec={spec} label={`${chartKind} of the query result`} height={320} />
          </div>
        )}
        {table && table.rows.length > 0 && (
          <div className="card" style={{ marginTop: 12 }}>
            <DataTable
              caption="Query results"
              columns={table.columns}
              rows={table.rows}
              rowAction={
                canWrite
                  ? (row) => (
                      <button type="button" className="link" onClick={() => setWorkItemRow(Object.fromEntries(table.columns.map((c, i) => [c.name, row[i]])))}>
                        Create work item
                      </button>
                    )
                  : undefined
              }
            />
          </div>
        )}
      </section>
      {workItemRow && <CreateWorkItem row={workItemRow} query={text} onClose={() => setWorkItemRow(null)} />}
    </>
  );
}

interface Outcome {
  operation: string;
  number: string;
  message: string;
}

/** ITSMC's "create a work item from a log record": through the delivery queue, then the outcome from ItsmActionOutcome_CL. */
function CreateWorkItem({ row, query, onClose }: { row: Record<string, unknown>; query: string; onClose(): void }) {
  const { workspace } = useSession();
  const connections = useConnections();
  const typesOf = useWorkItemTypes();
  const firstText = Object.entries(row).find(([k, v]) => typeof v === 'string' && v && !k.startsWith('TimeGenerated'))?.[1];
  const [connectionName, setConnection] = useState('');
  const [workItemType, setType] = useState('Incident');
  const [title, setTitle] = useState(`Log search: ${String(firstText ?? 'result row').slice(0, 120)}`);
  const [severity, setSeverity] = useState('Sev3');
  const conn = connectionName || connections.data?.[0]?.name || '';
  const create = useMutation({
    mutationFn: () =>
      api<{ status: string; alertId: string; actionGroup: string }>(wsPath(workspace, '/workItems'), {
        method: 'POST',
        body: {
          connectionName: conn,
          workItemType,
          title,
          severity,
          query,
          row: Object.fromEntries(
            Object.entries(row).map(([k, v]) => [k, v === undefined ? null : typeof v === 'object' && v !== null ? JSON.stringify(v) : v]),
          ),
        },
      }),
  });
  const alertId = create.data?.alertId;
  const outcomeKql = alertId
    ? `ItsmActionOutcome_CL\n| where AlertId_s == "${alertId}"\n| order by TimeGenerated desc\n| take 1\n| project Operation_s, WorkItemNumber_s, Message`
    : '';
  const outcome = useQuery({
    queryKey: ['kql', workspace, outcomeKql],
    enabled: !!alertId,
    queryFn: async (): Promise<Outcome | null> => {
      const r = await runQuery(workspace, outcomeKql);
      const first = r.tables[0].rows[0];
      return first ? { operation: String(first[0]), number: String(first[1]), message: String(first[2] ?? '') } : null;
    },
    refetchInterval: (q) => (q.state.data ? false : 1000),
  });

  return (
    <Modal labelledBy="wi-title" onClose={onClose}>
      <form
        className="card stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <h2 id="wi-title">Create a work item from this row</h2>
        <pre className="row-preview" tabIndex={0} role="region" aria-label="The log row">
          {JSON.stringify(row, null, 1).slice(0, 600)}
        </pre>
        <label htmlFor="wi-conn">Connection</label>
        <select id="wi-conn" value={conn} onChange={(e) => setConnection(e.target.value)} data-autofocus>
          {(connections.data ?? []).map((c) => (
            <option key={c.name} value={c.name}>
              {c.name} ({c.partnerType})
            </option>
          ))}
        </select>
        <label htmlFor="wi-type">Work item type</label>
        <select id="wi-type" value={workItemType} onChange={(e) => setType(e.target.value)}>
          {typesOf(connections.data?.find((c) => c.name === conn)?.partnerType).map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <label htmlFor="wi-title-input">Title</label>
        <input id="wi-title-input" type="text" value={title} maxLength={256} onChange={(e) => setTitle(e.target.value)} />
        <label htmlFor="wi-sev">Severity</label>
        <select id="wi-sev" value={severity} onChange={(e) => setSeverity(e.target.value)}>
          {['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        {create.error && <ErrorBox error={create.error} title="The work item was not queued" />}
        {create.data && (
          <div role="status" className="notice" data-workitem-status={outcome.data ? outcome.data.operation : 'queued'}>
            {create.data.status === 'duplicate'
              ? 'This row already has a work item in this connection (nothing new was created).'
              : 'Queued for delivery (stored durably; retried until it succeeds).'}{' '}
            {outcome.data ? (
              <>
                Outcome: <strong>{outcome.data.operation}</strong> <strong data-workitem-number>{outcome.data.number}</strong> {outcome.data.message}
              </>
            ) : (
              'Waiting for the outcome…'
            )}
          </div>
        )}
        <div className="row-buttons" style={{ marginTop: 12 }}>
          <button type="submit" className="primary" disabled={create.isPending || !!create.data || !conn || !title.trim()}>
            {create.isPending ? 'Queuing…' : 'Create work item'}
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </Modal>
  );
}
