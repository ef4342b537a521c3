import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { runQuery } from '../lib/api';
import { useSession } from '../lib/session';
import { computerHref, logSearchHref, navigate, useLocation } from '../lib/router';
import { decodeRange, encodeRange, formatValue, RANGE_PRESETS, type TimeRange } from '../lib/time';
import { toChartSpec, type ChartKind } from '../lib/chart-data';
import { Chart, Empty, ErrorBox, Link, Loading, PageHeader, preloadCharts } from '../components/ui';
import { DataTable } from '../components/DataTable';
import { TILES, type TileDef } from './overview-tiles';

// Every overview tile but four is a chart: fetch the renderer as soon as this page's code arrives,
// before the tile queries keep the connector busy.
preloadCharts();

/** The ITSMC view: work items, impacted computers, connector status, alert rules, incident and change analytics. */
export default function Overview() {
  const { query } = useLocation();
  const range = decodeRange(query.get('range'));
  const setRange = (r: TimeRange) => navigate(`/overview?range=${encodeURIComponent(encodeRange(r))}`, true);
  return (
    <>
      <PageHeader title="Overview">
        <TimeRangePicker value={range} onChange={setRange} />
      </PageHeader>
      <div className="tiles">
        {TILES.map((t) => (
          <Tile key={t.id} tile={t} range={range} />
        ))}
      </div>
    </>
  );
}

function TimeRangePicker({ value, onChange }: { value: TimeRange; onChange(r: TimeRange): void }) {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(value.from ?? new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10));
  const [to, setTo] = useState(value.to ?? today);
  return (
    <div className="range" role="group" aria-label="Time range">
      <label>
        <span className="sr-only">Time range</span>
        <select
          aria-label="Time range"
          value={value.key}
          onChange={(e) => onChange(e.target.value === 'custom' ? { key: 'custom', from, to } : { key: e.target.value as TimeRange['key'] })}
        >
          {RANGE_PRESETS.map((p) => (
            <option key={p.key} value={p.key}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {value.key === 'custom' && (
        <>
          <label>
            From <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            To <input type="date" value={to} min={from} max={today} onChange={(e) => setTo(e.target.value)} />
          </label>
          <button type="button" onClick={() => onChange({ key: 'custom', from, to })} disabled={!from || !to || from > to}>
            Apply
          </button>
        </>
      )}
    </div>
  );
}

function Tile({ tile, range }: { tile: TileDef; range: TimeRange }) {
  const { workspace } = useSession();
  const kql = useMemo(() => tile.query(range), [tile, range]);
  const q = useQuery({ queryKey: ['kql', workspace, kql], queryFn: () => runQuery(workspace, kql) });
  const table = q.data?.tables[0];
  const headingId = `tile-${tile.id}`;
  let body;
  if (q.isPending) body = <Loading what={tile.title.toLowerCase()} />;
  else if (q.error) body = <ErrorBox error={q.error} title="This tile's query failed" />;
  else if (!table || table.rows.length === 0) body = <Empty>No data in this time range.</Empty>;
  else if (tile.view === 'kpi') {
    const v = table.rows[0][0];
    body = (
      <p className="kpi" data-value={v === null ? '' : String(v)}>
        {v === null ? '–' : formatValue(v)}
      </p>
    );
  } else if (tile.view === 'table') {
    body = (
      <DataTable
        caption={tile.title}
        columns={table.columns}
        rows={table.rows}
        pageSize={10}
        cellHref={(col, v) => (col === tile.computerColumn && v ? computerHref(String(v)) : undefined)}
      />
    );
  } else body = <Chart spec={toChartSpec(table, tile.view as ChartKind)} label={`${tile.title} chart`} />;
  return (
    <section
      className={`tile${tile.wide ? ' wide' : ''}`}
      aria-labelledby={headingId}
      data-tile={tile.id}
      data-state={q.isPending ? 'loading' : q.error ? 'error' : 'done'}
    >
      <header>
        <h2 id={headingId}>{tile.title}</h2>
        <Link to={logSearchHref(kql)} className="open-in-logs">
          Open in log search<span className="sr-only">: {tile.title}</span>
        </Link>
      </header>
      {body}
    </section>
  );
}
