import { lazy, Suspense, type ReactNode } from 'react';
import type { ChartSpec } from '../lib/chart-data';
import { ApiError } from '../lib/api';
import { navigate } from '../lib/router';

const loadEChart = () => import('./EChart');
const EChart = lazy(loadEChart);

/** Starts downloading the chart renderer now (pages with charts call it on mount, in parallel with their queries). */
export const preloadCharts = () => void loadEChart();

export function Chart(props: { spec: ChartSpec; label: string; height?: number }) {
  if (props.spec.series.length === 0) return <Empty>No data to chart in this range.</Empty>;
  return (
    <Suspense fallback={<Loading what="chart" />}>
      <EChart {...props} />
    </Suspense>
  );
}

export function Loading({ what = 'data' }: { what?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  const e = error as ApiError | Error | undefined;
  const details = e instanceof ApiError && Array.isArray(e.details) ? (e.details as { path?: string; message?: string }[]) : [];
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      <p>{e?.message ?? String(error)}</p>
      {details.length > 1 && (
        <ul>
          {details.slice(0, 10).map((d, i) => (
            <li key={i}>
              {d.path ? <code>{d.path}</code> : null} {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A same-app link that navigates without a reload (still a real link for middle-click and screen readers). */
export function Link({ to, children, className, current }: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  if (/^https?:/.test(to))
    return (
      <a href={to} className={className} target="_blank" rel="noreferrer noopener">
        {children}
      </a>
    );
  return (
    <a
      href={to}
      className={className}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone = /healthy|^ok$|created|connected|resolved|enabled/i.test(status) ? 'ok' : /error|fail|dead/i.test(status) ? 'bad' : 'warn';
  return <span className={`badge ${tone}`}>{status}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1>{title}</h1>
      <div className="actions">{children}</div>
    </div>
  );
}

/** A form's submit and Cancel buttons; the submit button says what is happening while busy. */
export function FormActions({ busy, busyLabel, submitLabel, onCancel }: { busy: boolean; busyLabel: string; submitLabel: string; onCancel(): void }) {
  return (
    <div className="row-buttons" style={{ marginTop: 12 }}>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? busyLabel : submitLabel}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
