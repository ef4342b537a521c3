import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, runQuery, wsPath } from '../lib/api';
import { useSession } from '../lib/session';
import { logSearchHref } from '../lib/router';
import { relativeTime } from '../lib/time';
import { Empty, ErrorBox, Link, Loading, PageHeader } from '../components/ui';
import { DataTable } from '../components/DataTable';
import { useConnections } from './Connections';

interface QueueCounts {
  pending: number;
  running: number;
  dead: number;
  byConnection?: { connectionName: string | null; pending: number; running: number; dead: number }[];
}
interface DeadLetter {
  id: number;
  kind: string;
  connectionName: string | null;
  actionGroup: string | null;
  action: string | null;
  alertId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  failedAt: string;
}

interface WaitingJob {
  id: number;
  state: string;
  nextAttemptAt: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  alertRule: string | null;
  actionGroup: string | null;
  action: string | null;
  connectionName: string | null;
}

const REFRESH_MS = 5000;
const OUTCOMES_KQL =
  'ItsmActionOutcome_CL\n| where TimeGenerated > ago(7d)\n| order by TimeGenerated desc\n| take 100\n| project TimeGenerated, Operation_s, WorkItemNumber_s, WorkItemType_s, AlertRule_s, Computer, ActionGroup_s, Action_s, ServiceDeskConnectionName_s, Message';

/** Delivery: what is queued, in flight and dead per connection; dead letters with replay; recent ITSM action outcomes. */
export default function Delivery() {
  const { workspace, canWrite } = useSession();
  const qc = useQueryClient();
  const queue = useQuery({ queryKey: ['queue', workspace], queryFn: () => api<QueueCounts>(wsPath(workspace, '/deliveryQueue')), refetchInterval: REFRESH_MS });
  const dead = useQuery({
    queryKey: ['dead', workspace],
    queryFn: async () => (await api<{ value: DeadLetter[] }>(wsPath(workspace, '/deadLetters?limit=200'))).value,
    refetchInterval: REFRESH_MS,
  });
  // The job list; a connector without the endpoint (404) leaves the counts above as all there is.
  const jobs = useQuery({
    queryKey: ['queue', workspace, 'jobs'],
    queryFn: async () => {
      try {
        return (await api<{ value: WaitingJob[] }>(wsPath(workspace, '/deliveryQueue/jobs?limit=200'))).value;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    refetchInterval: REFRESH_MS,
  });
  const outcomes = useQuery({ queryKey: ['kql', workspace, OUTCOMES_KQL], queryFn: () => runQuery(workspace, OUTCOMES_KQL), refetchInterval: REFRESH_MS });
  const refresh = () => qc.invalidateQueries({ predicate: (q) => ['queue', 'dead', 'kql'].includes(String(q.queryKey[0])) });
  const replayOne = useMutation({ mutationFn: (id: number) => api(wsPath(workspace, `/deadLetters/${id}/replay`), { method: 'POST' }), onSuccess: refresh });
  const replayAll = useMutation({
    mutationFn: () => api<{ replayed: number }>(wsPath(workspace, '/deadLetters/replay'), { method: 'POST', body: {} }),
    onSuccess: refresh,
  });
  const discard = useMutation({ mutationFn: (id: number) => api(wsPath(workspace, `/deadLetters/${id}`), { method: 'DELETE' }), onSuccess: refresh });
  const t = outcomes.data?.tables[0];
  const connections = useConnections();
  const zero = { pending: 0, running: 0, dead: 0 };
  const perConnection = [
    ...(connections.data ?? []).map((c) => ({
      ...zero,
      ...queue.data?.byConnection?.find((x) => x.connectionName === c.name),
      connectionName: c.name as string | null,
    })),
    ...(queue.data?.byConnection ?? []).filter((x) => !x.connectionName),
  ];

  return (
    <>
      <PageHeader title="Delivery">
        <span className="help">Refreshes every {REFRESH_MS / 1000} s</span>
      </PageHeader>
      <div className="tiles">
        <section className="tile" aria-labelledby="q-title">
          <header>
            <h2 id="q-title">Queue</h2>
          </header>
          {queue.isPending ? (
            <Loading what="queue" />
          ) : queue.error ? (
            <ErrorBox error={queue.error} />
          ) : (
            <dl className="counts">
              <div>
                <dt>Queued</dt>
                <dd data-count="pending">{queue.data.pending}</dd>
              </div>
              <div>
                <dt>In flight</dt>
                <dd data-count="running">{queue.data.running}</dd>
              </div>
              <div>
                <dt>Dead letters</dt>
                <dd data-count="dead">{queue.data.dead}</dd>
              </div>
            </dl>
          )}
        </section>
        <section className="tile wide" aria-labelledby="qc-title">
          <header>
            <h2 id="qc-title">Per connection</h2>
          </header>
          {perConnection.length > 0 ? (
            <table className="list">
              <caption className="sr-only">Queue depth per connection</caption>
              <thead>
                <tr>
                  <th scope="col">Connection</th>
                  <th scope="col">Queued</th>
                  <th scope="col">In flight</th>
                  <th scope="col">Dead</th>
                </tr>
              </thead>
              <tbody>
                {perConnection.map((c) => (
                  <tr key={c.connectionName ?? '(none)'}>
                    <th scope="row">{c.connectionName ?? '(deleted connection)'}</th>
                    <td>{c.pending}</td>
                    <td>{c.running}</td>
                    <td>{c.dead}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty>No connections yet.</Empty>
          )}
        </section>
      </div>

      {jobs.data !== null && (
        <section className="card" aria-labelledby="jobs-title" style={{ marginTop: 12 }}>
          <h2 id="jobs-title">Waiting and in flight</h2>
          {jobs.isPending ? (
            <Loading what="jobs" />
          ) : jobs.error ? (
            <ErrorBox error={jobs.error} />
          ) : jobs.data.length === 0 ? (
            <Empty>Nothing is waiting: every alert so far has been delivered or dead-lettered.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="list">
                <caption className="sr-only">Delivery jobs waiting or in flight</caption>
                <thead>
                  <tr>
                    <th scope="col">State</th>
                    <th scope="col">Next attempt</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Connection</th>
                    <th scope="col">Action</th>
                    <th scope="col">Alert rule</th>
                    <th scope="col">Last error</th>
                  </tr>
                </thead>
                <tbody>
                  {jobs.data.map((j) => (
                    <tr key={j.id}>
                      <td>{j.state}</td>
                      <td title={j.nextAttemptAt}>{new Date(j.nextAttemptAt).toLocaleTimeString()}</td>
                      <td>
                        {j.attempts} of {j.maxAttempts}
                      </td>
                      <td>{j.connectionName ?? '–'}</td>
                      <td>{[j.actionGroup, j.action].filter(Boolean).join(' / ') || '–'}</td>
                      <td>{j.alertRule ?? '–'}</td>
                      <td className="bad-text">{j.lastError ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}

      <section className="card" aria-labelledby="dl-title" style={{ marginTop: 12 }}>
        <div className="page-header">
          <h2 id="dl-title">Dead letters</h2>
          {canWrite && (dead.data?.length ?? 0) > 0 && (
            <button type="button" onClick={() => replayAll.mutate()} disabled={replayAll.isPending}>
              {replayAll.isPending ? 'Replaying…' : `Replay all (${dead.data!.length})`}
            </button>
          )}
        </div>
        {replayAll.data && (
          <p role="status" className="notice">
            {replayAll.data.replayed} delivery job(s) queued again.
          </p>
        )}
        {(replayOne.error || replayAll.error || discard.error) && <ErrorBox error={replayOne.error ?? replayAll.error ?? discard.error} />}
        {dead.isPending ? (
          <Loading what="dead letters" />
        ) : dead.error ? (
          <ErrorBox error={dead.error} />
        ) : dead.data.length === 0 ? (
          <Empty>No dead letters. Deliveries that fail for good (after every retry, or at once for errors a retry cannot fix) show here for replay.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="list">
              <caption className="sr-only">Dead letters</caption>
              <thead>
                <tr>
                  <th scope="col">Failed</th>
                  <th scope="col">Connection</th>
                  <th scope="col">Action</th>
                  <th scope="col">Alert</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Reason</th>
                  {canWrite && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {dead.data.map((d) => (
                  <tr key={d.id} data-dead-letter={d.id}>
                    <td title={d.failedAt}>{relativeTime(d.failedAt)}</td>
                    <td>{d.connectionName ?? '–'}</td>
                    <td>{[d.actionGroup, d.action].filter(Boolean).join(' / ') || d.kind}</td>
                    <td className="ellipsis" title={d.alertId ?? ''}>
                      {d.alertId ?? '–'}
                    </td>
                    <td>{d.attempts}</td>
                    <td className="bad-text">{d.lastError}</td>
                    {canWrite && (
                      <td>
                        <div className="row-buttons">
                          <button type="button" onClick={() => replayOne.mutate(d.id)}>
                            Replay<span className="sr-only"> dead letter {d.id}</span>
                          </button>
                          <button
                            type="button"
                            className="danger"
                            onClick={() => confirm('Discard this dead letter? The alert will not be delivered.') && discard.mutate(d.id)}
                          >
                            Discard
                          </button>
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="out-title" style={{ marginTop: 12 }}>
        <div className="page-header">
          <h2 id="out-title">Recent ITSM action outcomes</h2>
          <Link to={logSearchHref(OUTCOMES_KQL)} className="open-in-logs">
            Open in log search
          </Link>
        </div>
        {outcomes.isPending ? (
          <Loading what="outcomes" />
        ) : outcomes.error ? (
          <ErrorBox error={outcomes.error} />
        ) : !t || t.rows.length === 0 ? (
          <Empty>No ITSM action ran in the last 7 days. Post an alert to an action group's webhook URL to see its outcome here.</Empty>
        ) : (
          <DataTable caption="Recent ITSM action outcomes" columns={t.columns} rows={t.rows} pageSize={20} />
        )}
      </section>
    </>
  );
}
