import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, runQuery, wsPath } from '../lib/api';
import { useSession } from '../lib/session';
import { navigate, useLocation } from '../lib/router';
import { relativeTime } from '../lib/time';
import { checkField, usePartners, type PartnerDescriptor, type PartnerField } from '../lib/partners';
import { Empty, ErrorBox, FormActions, Loading, PageHeader, StatusBadge } from '../components/ui';

export interface Connection {
  name: string;
  partnerType: string;
  serverUrl: string;
  clientId: string | null;
  hasClientSecret: boolean;
  dataSyncScope: string[];
  syncDataDays: number;
  createNewConfigurationItems: boolean;
  syncIntervalSeconds: number;
  status: string;
  lastError: string | null;
  lastSyncAt: string | null;
  lastConfigSyncAt: string | null;
  warnings: string[];
  [k: string]: unknown;
}

const COUNTS_KQL =
  'ServiceDesk_CL\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s\n| summarize Incidents = countif(ServiceDeskWorkItemType_s == "Incident"), ChangeRequests = countif(ServiceDeskWorkItemType_s == "ChangeRequest") by ServiceDeskConnectionName_s';

export function useConnections() {
  const { workspace } = useSession();
  return useQuery({ queryKey: ['connections', workspace], queryFn: async () => (await api<{ value: Connection[] }>(wsPath(workspace, '/connections'))).value });
}

/** What to do about a connection's last error, in words. */
function advice(c: Connection): string | null {
  const e = c.lastError ?? '';
  if (!e) return null;
  if (/password|credential|sign.?in|401|unauthori|invalid_grant/i.test(e)) return 'Edit the connection and enter the password again to sign in.';
  if (/ECONNREFUSED|ENOTFOUND|unreachable|timeout|timed out/i.test(e)) return 'Check the server URL and that the connector can reach it, then Test.';
  if (/no .* client yet/i.test(e)) return 'This partner type is stored but not yet supported for sending or syncing.';
  if (/429|rate/i.test(e)) return 'The partner is rate limiting; the connector backs off and retries on its own.';
  return 'Test the connection to see whether it still fails.';
}

export default function Connections() {
  const { workspace, canWrite } = useSession();
  const { query } = useLocation();
  const list = useConnections();
  const counts = useQuery({ queryKey: ['kql', workspace, COUNTS_KQL], queryFn: () => runQuery(workspace, COUNTS_KQL) });
  const countOf = useMemo(
    () => new Map((counts.data?.tables[0]?.rows ?? []).map((r) => [String(r[0]), { inc: Number(r[1]), chg: Number(r[2]) }])),
    [counts.data],
  );
  const editing = query.get('edit');
  const adding = query.get('new') === '1';

  return (
    <>
      <PageHeader title="Connections">
        {canWrite && !adding && !editing && (
          <button type="button" className="primary" onClick={() => navigate('/connections?new=1')}>
            Add connection
          </button>
        )}
      </PageHeader>
      {canWrite && (adding || editing) && (
        <ConnectionForm key={editing ?? 'new'} existing={list.data?.find((c) => c.name === editing)} onDone={() => navigate('/connections')} />
      )}
      {list.isPending ? (
        <Loading what="connections" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : list.data.length === 0 ? (
        <Empty>
          No connections yet.{' '}
          {canWrite ? 'Add one to send alerts to an ITSM tool and sync its incidents and change requests.' : 'Ask a contributor to add one.'}
        </Empty>
      ) : (
        <div className="card table-wrap">
          <table className="list">
            <caption className="sr-only">Connections</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Partner</th>
                <th scope="col">Status</th>
                <th scope="col">Last sync</th>
                <th scope="col">Records</th>
                <th scope="col">Last error</th>
                {canWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.map((c) => (
                <ConnectionRow key={c.name} c={c} counts={countOf.get(c.name)} canWrite={canWrite} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

interface SyncResult {
  status: string;
  fetched: number;
  appended: number;
  durationMs: number;
  error?: string;
}

function ConnectionRow({ c, counts, canWrite }: { c: Connection; counts?: { inc: number; chg: number }; canWrite: boolean }) {
  const { workspace } = useSession();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: ['connections', workspace] });
  const base = wsPath(workspace, `/connections/${encodeURIComponent(c.name)}`);
  const test = useMutation({ mutationFn: () => api<Connection>(`${base}/test`, { method: 'POST' }), onSettled: refresh });
  const sync = useMutation({ mutationFn: () => api<SyncResult>(`${base}/sync`, { method: 'POST' }), onSettled: () => qc.invalidateQueries() });
  const del = useMutation({ mutationFn: () => api(base, { method: 'DELETE' }), onSuccess: refresh });
  const tip = advice(c);
  return (
    <tr data-connection={c.name}>
      <th scope="row">{c.name}</th>
      <td>{c.partnerType}</td>
      <td>
        <StatusBadge status={c.status} />
      </td>
      <td title={c.lastSyncAt ?? ''}>{relativeTime(c.lastSyncAt)}</td>
      <td>{counts ? `${counts.inc.toLocaleString('en-US')} incidents, ${counts.chg.toLocaleString('en-US')} change requests` : '–'}</td>
      <td>
        {c.lastError ? (
          <>
            <span className="bad-text">{c.lastError}</span>
            {tip && <div className="help">{tip}</div>}
          </>
        ) : (
          <span className="muted">none</span>
        )}
        {c.warnings.map((w) => (
          <div key={w} className="help">
            ⚠ {w}
          </div>
        ))}
        {test.data && (
          <div role="status" className="help">
            Test: {test.data.status}
            {test.data.lastError ? ` — ${test.data.lastError}` : ''}
          </div>
        )}
        {test.error && (
          <div role="alert" className="field-error">
            Test failed: {(test.error as Error).message}
          </div>
        )}
        {sync.isPending && (
          <div role="status" aria-label="Sync in progress">
            <div className="progress">
              <span />
            </div>
            <span className="help">Syncing configuration, incidents and change requests…</span>
          </div>
        )}
        {sync.data && (
          <div role="status" className="help">
            Sync {sync.data.status}: {sync.data.fetched} read, {sync.data.appended} new or changed in {(sync.data.durationMs / 1000).toFixed(1)} s
            {sync.data.error ? ` — ${sync.data.error}` : ''}
          </div>
        )}
        {sync.error && (
          <div role="alert" className="field-error">
            Sync failed: {(sync.error as Error).message}
          </div>
        )}
        {del.error && (
          <div role="alert" className="field-error">
            {(del.error as Error).message}
          </div>
        )}
      </td>
      {canWrite && (
        <td>
          <div className="row-buttons">
            <button type="button" onClick={() => navigate(`/connections?edit=${encodeURIComponent(c.name)}`)}>
              Edit<span className="sr-only"> {c.name}</span>
            </button>
            <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
              {test.isPending ? 'Testing…' : 'Test'}
            </button>
            <button type="button" onClick={() => sync.mutate()} disabled={sync.isPending}>
              {sync.isPending ? 'Syncing…' : 'Sync now'}
            </button>
            <button type="button" className="danger" onClick={() => confirm(`Delete connection ${c.name}?`) && del.mutate()} disabled={del.isPending}>
              Delete
            </button>
          </div>
        </td>
      )}
    </tr>
  );
}

type Values = Record<string, unknown>;

function initialValues(existing: Connection | undefined, partner: PartnerDescriptor | undefined): Values {
  const v: Values = {};
  for (const f of partner?.fields ?? []) {
    if (f.secret) v[f.name] = '';
    else if (existing && existing[f.name] !== undefined && existing[f.name] !== null) v[f.name] = existing[f.name];
    else if (f.type === 'multiselect') v[f.name] = f.options ?? [];
    else if (f.type === 'boolean') v[f.name] = false;
    else v[f.name] = '';
  }
  return v;
}

function ConnectionForm({ existing, onDone }: { existing?: Connection; onDone(): void }) {
  const { workspace } = useSession();
  const qc = useQueryClient();
  const partners = usePartners();
  const [name, setName] = useState(existing?.name ?? '');
  const [partnerType, setPartnerType] = useState(existing?.partnerType ?? 'ServiceNow');
  const partner = partners.data?.partners.find((p) => p.partnerType === partnerType);
  const [values, setValues] = useState<Values | null>(null);
  const v = values ?? initialValues(existing, partner);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: (body: Values) => api<Connection>(wsPath(workspace, `/connections/${encodeURIComponent(name)}`), { method: 'PUT', body }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['connections', workspace] });
      onDone();
    },
    onError: (err) => {
      const details = err instanceof ApiError && Array.isArray(err.details) ? (err.details as { path: string; message: string }[]) : [];
      const byField: Record<string, string> = {};
      for (const d of details) {
        const field = d.path.replace(/^(body|params)\//, '').split('/')[0];
        if (field) byField[field] = d.message;
      }
      setErrors(byField);
      setFormError(Object.keys(byField).length ? 'The connector refused some fields; see the messages next to them.' : (err as Error).message);
    },
  });

  if (partners.isPending) return <Loading what="partner forms" />;
  if (partners.error) return <ErrorBox error={partners.error} />;

  function submit(e: FormEvent) {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) problems.name = 'Use 1–63 letters, digits, dot, dash or underscore, starting with a letter or digit.';
    for (const f of partner?.fields ?? []) {
      const p = checkField(f, v[f.name], !!existing);
      if (p) problems[f.name] = p;
    }
    setErrors(problems);
    setFormError(null);
    if (Object.keys(problems).length) {
      document.getElementById(`f-${Object.keys(problems)[0]}`)?.focus();
      return;
    }
    const body: Values = { partnerType };
    for (const f of partner?.fields ?? []) {
      const x = v[f.name];
      if (f.secret && (x === '' || x === undefined)) continue;
      if (f.type === 'number') {
        if (x !== '' && x !== undefined) body[f.name] = Number(x);
      } else if (typeof x === 'string') {
        if (x.trim() !== '') body[f.name] = x.trim();
      } else body[f.name] = x;
    }
    save.mutate(body);
  }

  const set = (k: string, x: unknown) => setValues({ ...v, [k]: x });
  return (
    <form className="card stack" onSubmit={submit} noValidate aria-labelledby="conn-form-title" style={{ marginBottom: 16 }}>
      <h2 id="conn-form-title">{existing ? `Edit connection ${existing.name}` : 'Add connection'}</h2>
      {partners.data.source === 'fallback' && (
        <p className="help">Form fields from the dashboard's built-in partner descriptions (this connector has no partner descriptor endpoint).</p>
      )}
      <label htmlFor="f-name">Connection name</label>
      <input
        id="f-name"
        type="text"
        value={name}
        onChange={(e) => setName(e.target.value)}
        disabled={!!existing}
        aria-invalid={errors.name ? true : undefined}
        aria-describedby={errors.name ? 'e-name' : undefined}
      />
      {errors.name && (
        <p id="e-name" className="field-error">
          {errors.name}
        </p>
      )}
      <label htmlFor="f-partnerType">Partner</label>
      <select
        id="f-partnerType"
        value={partnerType}
        onChange={(e) => {
          setPartnerType(e.target.value);
          setValues(null);
          setErrors({});
        }}
        disabled={!!existing}
      >
        {partners.data.partners.map((p) => (
          <option key={p.partnerType} value={p.partnerType}>
            {p.displayName}
            {p.clientAvailable ? '' : ' (form only: stored, cannot send or sync yet)'}
          </option>
        ))}
      </select>
      {partner?.fields.map((f) => (
        <Field key={`${partnerType}:${f.name}`} field={f} value={v[f.name]} error={errors[f.name]} editing={!!existing} onChange={(x) => set(f.name, x)} />
      ))}
      {formError && (
        <p className="field-error" role="alert">
          {formError}
        </p>
      )}
      <FormActions busy={save.isPending} busyLabel="Signing in and saving…" submitLabel={existing ? 'Save' : 'Create connection'} onCancel={onDone} />
    </form>
  );
}

function Field({
  field,
  value,
  error,
  editing,
  onChange,
}: {
  field: PartnerField;
  value: unknown;
  error?: string;
  editing: boolean;
  onChange(v: unknown): void;
}) {
  const id = `f-${field.name}`;
  const describedBy = [error ? `e-${field.name}` : '', field.help || (field.secret && editing) ? `h-${field.name}` : ''].filter(Boolean).join(' ') || undefined;
  const help = [field.help, field.secret && editing ? 'Leave empty to keep the stored value.' : ''].filter(Boolean).join(' ');
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': field.required && !(editing && field.secret) ? true : undefined,
  };
  if (field.type === 'boolean') {
    return (
      <div>
        <label className="checkbox" htmlFor={id}>
          <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} /> {field.label}
        </label>
        {help && (
          <p id={`h-${field.name}`} className="help">
            {help}
          </p>
        )}
      </div>
    );
  }
  if (field.type === 'multiselect') {
    const selected = Array.isArray(value) ? (value as string[]) : [];
    return (
      <fieldset aria-describedby={describedBy}>
        <legend>{field.label}</legend>
        {(field.options ?? []).map((o) => (
          <label key={o} className="checkbox">
            <input
              type="checkbox"
              checked={selected.includes(o)}
              onChange={(e) => onChange(e.target.checked ? [...selected, o] : selected.filter((x) => x !== o))}
            />{' '}
            {o}
          </label>
        ))}
        {help && (
          <p id={`h-${field.name}`} className="help">
            {help}
          </p>
        )}
        {error && (
          <p id={`e-${field.name}`} className="field-error">
            {error}
          </p>
        )}
      </fieldset>
    );
  }
  return (
    <div>
      <label htmlFor={id}>
        {field.label}
        {field.required && !(editing && field.secret) ? <span aria-hidden="true"> *</span> : null}
      </label>
      <input
        {...common}
        type={field.secret ? 'password' : field.type === 'number' ? 'number' : field.type === 'url' ? 'url' : 'text'}
        autoComplete={field.secret ? 'new-password' : 'off'}
        value={value === undefined || value === null ? '' : String(value)}
        min={field.min}
        max={field.max}
        placeholder={field.type === 'number' ? 'connector default' : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {help && (
        <p id={`h-${field.name}`} className="help">
          {help}
        </p>
      )}
      {error && (
        <p id={`e-${field.name}`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
