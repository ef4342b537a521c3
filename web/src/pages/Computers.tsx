import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { kqlString, runQuery, type LogsTable } from '../lib/api';
import { useSession } from '../lib/session';
import { computerHref, logSearchHref, navigate, useLocation } from '../lib/router';
import { toChartSpec } from '../lib/chart-data';
import { Chart, Empty, ErrorBox, Link, Loading, PageHeader } from '../components/ui';
import { DataTable } from '../components/DataTable';
import { useConnections, type Connection } from './Connections';

/** The Service Map view: each computer's incidents and change requests over time, and the alerts that touched it. */
export default function Computers() {
  const { query } = useLocation();
  const name = query.get('name');
  return name ? <ComputerDetail name={name} /> : <ComputerList />;
}

function useKql(kql: string) {
  const { workspace } = useSession();
  return useQuery({ queryKey: ['kql', workspace, kql], queryFn: () => runQuery(workspace, kql) });
}

function ComputerList() {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const kql = `ServiceDesk_CL\n| where Computer != ""${applied ? `\n| where Computer contains ${kqlString(applied)}` : ''}\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| summarize Incidents = countif(ServiceDeskWorkItemType_s == "Incident"), ChangeRequests = countif(ServiceDeskWorkItemType_s == "ChangeRequest"), LastCreated = max(CreatedDate_t) by Computer\n| order by Incidents desc\n| take 200`;
  const q = useKql(kql);
  const table = q.data?.tables[0];
  return (
    <>
      <PageHeader title="Computers">
        <form
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setApplied(search.trim());
          }}
          className="row-buttons"
        >
          <label htmlFor="computer-search" className="sr-only">
            Search computers
          </label>
          <input id="computer-search" type="search" placeholder="Computer name contains…" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button type="submit">Search</button>
        </form>
      </PageHeader>
      {q.isPending ? (
        <Loading what="computers" />
      ) : q.error ? (
        <ErrorBox error={q.error} />
      ) : !table || table.rows.length === 0 ? (
        <Empty>
          {applied
            ? `No computer name contains "${applied}".`
            : 'No work items name a computer yet. Sync a connection or send an alert with a configuration item.'}
        </Empty>
      ) : (
        <div className="card">
          <DataTable
            caption="Computers"
            columns={table.columns}
            rows={table.rows}
            cellHref={(col, v) => (col === 'Computer' && v ? computerHref(String(v)) : undefined)}
          />
        </div>
      )}
    </>
  );
}

/** A link to the partner's own record (ServiceNow: the form of the record with that number). */
function partnerLink(conn: Connection | undefined, type: string, id: string): string | undefined {
  if (!conn || conn.partnerType !== 'ServiceNow' || !id) return undefined;
  const table = type === 'ChangeRequest' ? 'change_request' : type === 'Event' ? 'em_event' : type === 'Alert' ? 'em_alert' : 'incident';
  return `${conn.serverUrl.replace(/\/+$/, '')}/nav_to.do?uri=${encodeURIComponent(`${table}.do?sysparm_query=number=${id}`)}`;
}

function ComputerDetail({ name }: { name: string }) {
  const connections = useConnections();
  const byName = useMemo(() => new Map((connections.data ?? []).map((c) => [c.name, c])), [connections.data]);
  const c = kqlString(name);
  const recordsKql = `ServiceDesk_CL\n| where Computer == ${c}\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| project ServiceDeskId_s, ServiceDeskWorkItemType_s, State = iff(ServiceDeskWorkItemType_s == "Incident", IncidentState_s, CRState_s), Priority_s, Title_s, CreatedDate_t, ResolvedDate_t, ServiceDeskConnectionName_s\n| order by CreatedDate_t desc`;
  const timelineKql = `ServiceDesk_CL\n| where Computer == ${c}\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| summarize count() by bin(CreatedDate_t, 1d), ServiceDeskWorkItemType_s\n| render timechart`;
  const alertsKql = `ItsmActionOutcome_CL\n| where Computer == ${c}\n| project TimeGenerated, AlertRule_s, Operation_s, WorkItemType_s, WorkItemNumber_s, ActionGroup_s, ServiceDeskConnectionName_s, Message\n| order by TimeGenerated desc\n| take 200`;
  const records = useKql(recordsKql);
  const timeline = useKql(timelineKql);
  const alerts = useKql(alertsKql);
  const linkFor = (t: LogsTable, idCol: string, typeCol: string, connCol: string) => (col: string, v: unknown, row: unknown[]) => {
    if (col !== idCol) return undefined;
    const i = (n: string) => t.columns.findIndex((x) => x.name === n);
    return partnerLink(byName.get(String(row[i(connCol)])), String(row[i(typeCol)]), String(v));
  };
  return (
    <>
      <PageHeader title={`Computer ${name}`}>
        <button type="button" onClick={() => navigate('/computers')}>
          All computers
        </button>
      </PageHeader>
      <div className="tiles">
        <Section title="Incidents and change requests over time" kql={timelineKql} wide>
          {timeline.isPending ? (
            <Loading />
          ) : timeline.error ? (
            <ErrorBox error={timeline.error} />
          ) : (
            <Chart spec={toChartSpec(timeline.data.tables[0], 'timechart')} label={`Work items of ${name} over time`} />
          )}
        </Section>
        <Section title="Alerts that touched it" kql={alertsKql} wide>
          {alerts.isPending ? (
            <Loading />
          ) : alerts.error ? (
            <ErrorBox error={alerts.error} />
          ) : alerts.data.tables[0].rows.length === 0 ? (
            <Empty>No alert has named this computer.</Empty>
          ) : (
            <DataTable
              caption={`Alerts on ${name}`}
              columns={alerts.data.tables[0].columns}
              rows={alerts.data.tables[0].rows}
              pageSize={10}
              cellHref={linkFor(alerts.data.tables[0], 'WorkItemNumber_s', 'WorkItemType_s', 'ServiceDeskConnectionName_s')}
            />
          )}
        </Section>
        <Section title="Incidents and change requests" kql={recordsKql} wide full>
          {records.isPending ? (
            <Loading />
          ) : records.error ? (
            <ErrorBox error={records.error} />
          ) : records.data.tables[0].rows.length === 0 ? (
            <Empty>No synced incident or change request names this computer yet.</Empty>
          ) : (
            <DataTable
              caption={`Work items of ${name}`}
              columns={records.data.tables[0].columns}
              rows={records.data.tables[0].rows}
              pageSize={20}
              cellHref={linkFor(records.data.tables[0], 'ServiceDeskId_s', 'ServiceDeskWorkItemType_s', 'ServiceDeskConnectionName_s')}
            />
          )}
        </Section>
      </div>
    </>
  );
}

function Section({ title, kql, wide, full, children }: { title: string; kql: string; wide?: boolean; full?: boolean; children: React.ReactNode }) {
  const id = `s-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section className={`tile${wide ? ' wide' : ''}${full ? ' full' : ''}`} aria-labelledby={id}>
      <header>
        <h2 id={id}>{title}</h2>
        <Link to={logSearchHref(kql)} className="open-in-logs">
          Open in log search<span className="sr-only">: {title}</span>
        </Link>
      </header>
      {children}
    </section>
  );
}
