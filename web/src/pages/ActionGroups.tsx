import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, wsPath } from '../lib/api';
import { useSession } from '../lib/session';
import { navigate, useLocation } from '../lib/router';
import { PLACEHOLDERS } from '../../../src/actions/placeholders.ts';
import { Empty, ErrorBox, FormActions, Loading, PageHeader, StatusBadge } from '../components/ui';
import { useConnections, type Connection } from './Connections';
import { useDefaultSeverityMapping, useWorkItemTypes, type SeverityMapping } from '../lib/partners';
import { SeverityMappingEditor } from './SeverityMapping';

interface Receiver {
  name: string;
  connectionName: string;
  ticketConfiguration: Record<string, any>;
}
interface ActionGroup {
  name: string;
  shortName: string;
  enabled: boolean;
  itsmReceivers: Receiver[];
  webhookUrl: string | null;
  alertsUrl: string;
}
interface Template {
  name: string;
  table: string;
  fields: Record<string, string>;
}
interface Choice {
  table: string;
  field: string;
  value: string;
  label: string;
}
interface Preview {
  family: string;
  sample: string;
  rule: string;
  workItems: number;
  draft: { title: string; description: string; fields: Record<string, string>; templateName?: string; ciNames: string[]; eventSeverity?: string } | null;
}

const tableMatches = (table: string, type: string) =>
  type === 'Incident'
    ? table.toLowerCase().includes('incident')
    : type === 'Event'
      ? table.toLowerCase().includes('event')
      : table.toLowerCase().includes('alert');
const INSERTABLE = PLACEHOLDERS.filter((p) => !p.includes(' ')).map((p) => p.replace('[N]', '[0]').replace('.NAME', '.team'));

export default function ActionGroups() {
  const { workspace, canWrite } = useSession();
  const { query } = useLocation();
  const groups = useQuery({
    queryKey: ['actionGroups', workspace],
    queryFn: async () => (await api<{ value: ActionGroup[] }>(wsPath(workspace, '/actionGroups'))).value,
  });
  const editing = query.get('edit');
  const adding = query.get('new') === '1';
  return (
    <>
      <PageHeader title="Action groups">
        {canWrite && !adding && !editing && (
          <button type="button" className="primary" onClick={() => navigate('/action-groups?new=1')}>
            Add action group
          </button>
        )}
      </PageHeader>
      {canWrite && (adding || editing) && (groups.data || adding) && (
        <GroupEditor key={editing ?? 'new'} existing={groups.data?.find((g) => g.name === editing)} onDone={() => navigate('/action-groups')} />
      )}
      {groups.isPending ? (
        <Loading what="action groups" />
      ) : groups.error ? (
        <ErrorBox error={groups.error} />
      ) : groups.data.length === 0 ? (
        <Empty>No action groups yet. {canWrite ? 'Add one, then give its webhook URL to Azure Monitor, Alertmanager or Grafana.' : ''}</Empty>
      ) : (
        <div className="card table-wrap">
          <table className="list">
            <caption className="sr-only">Action groups</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">ITSM actions</th>
                <th scope="col">Webhook URL</th>
                {canWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {groups.data.map((g) => (
                <GroupRow key={g.name} g={g} canWrite={canWrite} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function GroupRow({ g, canWrite }: { g: ActionGroup; canWrite: boolean }) {
  const { workspace } = useSession();
  const qc = useQueryClient();
  const [copied, setCopied] = useState(false);
  const base = wsPath(workspace, `/actionGroups/${encodeURIComponent(g.name)}`);
  const rotate = useMutation({
    mutationFn: () => api(`${base}/rotateWebhookSecret`, { method: 'POST' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['actionGroups', workspace] }),
  });
  const del = useMutation({
    mutationFn: () => api(base, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['actionGroups', workspace] }),
  });
  return (
    <tr data-group={g.name}>
      <th scope="row">
        {g.name}
        {g.shortName !== g.name && <div className="help">{g.shortName}</div>}
      </th>
      <td>
        <StatusBadge status={g.enabled ? 'Enabled' : 'Disabled'} />
      </td>
      <td>
        {g.itsmReceivers.map((r) => (
          <div key={r.name}>
            {r.name}: {r.ticketConfiguration.WorkItemType} in <strong>{r.connectionName}</strong>
          </div>
        ))}
      </td>
      <td>
        {g.webhookUrl ? (
          <div className="row-buttons">
            <code className="url" title={g.webhookUrl}>
              {g.webhookUrl.replace(/(\/hooks\/.{6}).*/, '$1…')}
            </code>
            <button
              type="button"
              onClick={async () => {
                await navigator.clipboard?.writeText(g.webhookUrl!).catch(() => undefined);
                setCopied(true);
              }}
            >
              {copied ? 'Copied' : 'Copy'}
              <span className="sr-only"> webhook URL of {g.name}</span>
            </button>
            {canWrite && (
              <button
                type="button"
                onClick={() => confirm('Rotate the webhook secret? The current URL stops working at once.') && rotate.mutate()}
                disabled={rotate.isPending}
              >
                Rotate
              </button>
            )}
          </div>
        ) : (
          <span className="muted">hidden for readers</span>
        )}
        {del.error && (
          <p className="field-error" role="alert">
            {(del.error as Error).message}
          </p>
        )}
      </td>
      {canWrite && (
        <td>
          <div className="row-buttons">
            <button type="button" onClick={() => navigate(`/action-groups?edit=${encodeURIComponent(g.name)}`)}>
              Edit<span className="sr-only"> {g.name}</span>
            </button>
            <button type="button" className="danger" onClick={() => confirm(`Delete action group ${g.name}?`) && del.mutate()}>
              Delete
            </button>
          </div>
        </td>
      )}
    </tr>
  );
}

const newReceiver = (connectionName: string): Receiver => ({
  name: 'create-incident',
  connectionName,
  ticketConfiguration: { WorkItemType: 'Incident', WorkItemData: {}, autoResolve: { mode: 'resolve' } },
});

function GroupEditor({ existing, onDone }: { existing?: ActionGroup; onDone(): void }) {
  const { workspace } = useSession();
  const qc = useQueryClient();
  const connections = useConnections();
  const [name, setName] = useState(existing?.name ?? '');
  const [shortName, setShortName] = useState(existing?.shortName ?? '');
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [receivers, setReceivers] = useState<Receiver[]>(existing?.itsmReceivers ?? []);
  const [error, setError] = useState<ApiError | Error | null>(null);
  useEffect(() => {
    if (!existing && receivers.length === 0 && connections.data?.length) setReceivers([newReceiver(connections.data[0].name)]);
  }, [existing, receivers.length, connections.data]);

  const save = useMutation({
    mutationFn: () =>
      api(wsPath(workspace, `/actionGroups/${encodeURIComponent(name)}`), {
        method: 'PUT',
        body: { ...(shortName ? { shortName } : {}), enabled, itsmReceivers: receivers },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['actionGroups', workspace] });
      onDone();
    },
    onError: (e) => setError(e as Error),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) return setError(new Error('Name: use 1–63 letters, digits, dot, dash or underscore.'));
    save.mutate();
  }
  if (connections.isPending) return <Loading what="connections" />;
  if (connections.data?.length === 0) return <Empty>Add a connection first: every ITSM action sends to one.</Empty>;
  return (
    <form className="card stack" onSubmit={submit} noValidate aria-labelledby="ag-title" style={{ marginBottom: 16 }}>
      <h2 id="ag-title">{existing ? `Edit action group ${existing.name}` : 'Add action group'}</h2>
      <div className="two-col">
        <div>
          <label htmlFor="ag-name">Name</label>
          <input id="ag-name" type="text" value={name} disabled={!!existing} onChange={(e) => setName(e.target.value)} />
        </div>
        <div>
          <label htmlFor="ag-short">Short name (up to 12 characters)</label>
          <input id="ag-short" type="text" maxLength={12} value={shortName} onChange={(e) => setShortName(e.target.value)} />
        </div>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled (a disabled group acknowledges alerts and stores
        nothing)
      </label>
      {receivers.map((r, i) => (
        <ActionEditor
          key={i}
          index={i}
          receiver={r}
          connections={connections.data ?? []}
          saveProblems={saveProblemsOf(error, i)}
          onChange={(next) => {
            setError(null);
            setReceivers(receivers.map((x, j) => (j === i ? next : x)));
          }}
          onRemove={() => setReceivers(receivers.filter((_, j) => j !== i))}
        />
      ))}
      {receivers.length < 10 && (
        <button
          type="button"
          onClick={() => setReceivers([...receivers, { ...newReceiver(connections.data![0].name), name: `action-${receivers.length + 1}` }])}
        >
          Add ITSM action
        </button>
      )}
      {error && <ErrorBox error={error} title="The action group was not saved" />}
      <FormActions busy={save.isPending} busyLabel="Saving…" submitLabel={existing ? 'Save' : 'Create action group'} onCancel={onDone} />
    </form>
  );
}

interface Problem {
  path: string;
  message: string;
  allowed?: string[];
}

/**
 * The refused save's problems of ITSM action `index`, with dotted paths under its ticketConfiguration (the 400's
 * details say `body/itsmReceivers/0/ticketConfiguration/severityMapping/Sev1/urgency`, or the parent path
 * and the unknown `property`).
 */
function saveProblemsOf(error: unknown, index: number): Problem[] {
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return [];
  const prefix = `itsmReceivers/${index}/ticketConfiguration/`;
  return (error.details as { path?: string; message?: string; property?: string }[]).flatMap((d) => {
    const full = `${(d.path ?? '').replace(/^body\//, '')}${d.property ? `/${d.property}` : ''}`;
    return full.startsWith(prefix) ? [{ path: full.slice(prefix.length).replaceAll('/', '.'), message: d.message ?? '' }] : [];
  });
}

/** Problems under `severityMapping`, keyed by the rest of their path (`Sev1.urgency`, `Sev1`, ''). */
function severityProblems(problems: Problem[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of problems) {
    if (p.path !== 'severityMapping' && !p.path.startsWith('severityMapping.')) continue;
    const key = p.path.slice('severityMapping.'.length);
    m.set(key, [...(m.get(key) ?? []), p.message]);
  }
  return m;
}

function ActionEditor({
  index,
  receiver,
  connections,
  saveProblems,
  onChange,
  onRemove,
}: {
  index: number;
  receiver: Receiver;
  connections: Connection[];
  saveProblems: Problem[];
  onChange(r: Receiver): void;
  onRemove(): void;
}) {
  const { workspace } = useSession();
  const cfg = receiver.ticketConfiguration;
  const conn = connections.find((c) => c.name === receiver.connectionName);
  const typesOf = useWorkItemTypes();
  const type: string = cfg.WorkItemType ?? 'Incident';
  const connBase = wsPath(workspace, `/connections/${encodeURIComponent(receiver.connectionName)}`);
  const templates = useQuery({
    queryKey: ['templates', workspace, receiver.connectionName],
    queryFn: async () => (await api<{ value: Template[] }>(`${connBase}/templates`)).value,
  });
  const choices = useQuery({
    queryKey: ['choices', workspace, receiver.connectionName],
    queryFn: async () => (await api<{ value: Choice[] }>(`${connBase}/choices`)).value,
  });
  const typeTemplates = (templates.data ?? []).filter((t) => tableMatches(t.table, type));
  const fieldChoices = useMemo(() => {
    const m = new Map<string, Choice[]>();
    for (const c of choices.data ?? []) if (tableMatches(c.table, type)) m.set(c.field, [...(m.get(c.field) ?? []), c]);
    return m;
  }, [choices.data, type]);
  const data: Record<string, string> = typeof cfg.WorkItemData === 'object' && cfg.WorkItemData ? cfg.WorkItemData : {};
  const setCfg = (patch: Record<string, unknown>) => onChange({ ...receiver, ticketConfiguration: { ...cfg, ...patch } });
  const setData = (next: Record<string, string>) => setCfg({ WorkItemData: next });
  const [newField, setNewField] = useState('');
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const id = (s: string) => `a${index}-${s}`;
  const severityDefaults = useDefaultSeverityMapping(conn?.partnerType);
  const live = useActionPreview(receiver);

  return (
    <fieldset className="action" aria-label={`ITSM action ${index + 1}`}>
      <legend>ITSM action {index + 1}</legend>
      <div className="two-col">
        <div>
          <div className="two-col">
            <div>
              <label htmlFor={id('name')}>Action name</label>
              <input id={id('name')} type="text" value={receiver.name} onChange={(e) => onChange({ ...receiver, name: e.target.value })} />
            </div>
            <div>
              <label htmlFor={id('conn')}>Connection</label>
              <select
                id={id('conn')}
                value={receiver.connectionName}
                onChange={(e) =>
                  onChange({ ...receiver, connectionName: e.target.value, ticketConfiguration: { ...cfg, TemplateName: undefined, UseTemplate: false } })
                }
              >
                {connections.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name} ({c.partnerType})
                  </option>
                ))}
              </select>
            </div>
          </div>
          <label htmlFor={id('type')}>Work item type</label>
          <select id={id('type')} value={type} onChange={(e) => setCfg({ WorkItemType: e.target.value, TemplateName: undefined, UseTemplate: false })}>
            {typesOf(conn?.partnerType).map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={cfg.UseTemplate === true}
              disabled={typeTemplates.length === 0}
              onChange={(e) => setCfg({ UseTemplate: e.target.checked, TemplateName: e.target.checked ? typeTemplates[0]?.name : undefined })}
            />{' '}
            Use a template
            {typeTemplates.length === 0 && <span className="help"> (the connection has no {type} templates)</span>}
          </label>
          {cfg.UseTemplate && (
            <>
              <label htmlFor={id('tpl')}>Template</label>
              <select id={id('tpl')} value={cfg.TemplateName ?? ''} onChange={(e) => setCfg({ TemplateName: e.target.value })}>
                {typeTemplates.map((t) => (
                  <option key={t.name}>{t.name}</option>
                ))}
              </select>
            </>
          )}
          <fieldset>
            <legend>Work item fields</legend>
            {Object.entries(data).map(([k, val]) => {
              const options = fieldChoices.get(k);
              return (
                <div key={k} className="kv">
                  <label htmlFor={id(`f-${k}`)}>{k}</label>
                  {options ? (
                    <select id={id(`f-${k}`)} value={val} onChange={(e) => setData({ ...data, [k]: e.target.value })}>
                      {!options.some((o) => o.value === val) && <option value={val}>{val || '(choose)'}</option>}
                      {options.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label} ({o.value})
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input
                      id={id(`f-${k}`)}
                      type="text"
                      value={val}
                      onFocus={() => setFocusKey(k)}
                      onChange={(e) => setData({ ...data, [k]: e.target.value })}
                    />
                  )}
                  <button type="button" className="link" onClick={() => setData(Object.fromEntries(Object.entries(data).filter(([x]) => x !== k)))}>
                    Remove<span className="sr-only"> field {k}</span>
                  </button>
                </div>
              );
            })}
            <div className="row-buttons">
              <label htmlFor={id('newfield')} className="sr-only">
                New field name
              </label>
              <input
                id={id('newfield')}
                type="text"
                list={id('fields')}
                placeholder="field name, e.g. short_description"
                value={newField}
                onChange={(e) => setNewField(e.target.value)}
              />
              <datalist id={id('fields')}>
                {['short_description', 'description', 'assignment_group', ...fieldChoices.keys()].map((f) => (
                  <option key={f} value={f} />
                ))}
              </datalist>
              <button
                type="button"
                disabled={!newField.trim() || newField.trim() in data}
                onClick={() => {
                  setData({ ...data, [newField.trim()]: '' });
                  setFocusKey(newField.trim());
                  setNewField('');
                }}
              >
                Add field
              </button>
            </div>
            <label htmlFor={id('ph')}>Insert a placeholder{focusKey ? ` into ${focusKey}` : ''}</label>
            <select
              id={id('ph')}
              value=""
              disabled={!focusKey || fieldChoices.has(focusKey)}
              onChange={(e) => focusKey && setData({ ...data, [focusKey]: `${data[focusKey] ?? ''}{{${e.target.value}}}` })}
            >
              <option value="">{focusKey ? 'choose…' : 'focus a text field first'}</option>
              {INSERTABLE.map((p) => (
                <option key={p} value={p}>{`{{${p}}}`}</option>
              ))}
            </select>
          </fieldset>
          {type === 'Incident' && (
            <SeverityMappingEditor
              idPrefix={id('sev')}
              mapping={cfg.severityMapping as SeverityMapping | undefined}
              defaults={severityDefaults}
              options={{ impact: fieldChoices.get('impact'), urgency: fieldChoices.get('urgency') }}
              usesTemplate={cfg.UseTemplate === true}
              problems={severityProblems([...(live.data?.problems ?? []), ...saveProblems])}
              onChange={(severityMapping) => setCfg({ severityMapping })}
            />
          )}
          <label className="checkbox">
            <input
              type="checkbox"
              checked={cfg.CreateOneWIPerCI === true}
              onChange={(e) => setCfg({ CreateOneWIPerCI: e.target.checked, ...(e.target.checked ? { CreateOneWIPerLog: false } : {}) })}
            />{' '}
            One work item per configuration item
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={cfg.CreateOneWIPerLog === true}
              onChange={(e) => setCfg({ CreateOneWIPerLog: e.target.checked, ...(e.target.checked ? { CreateOneWIPerCI: false } : {}) })}
            />{' '}
            One work item per log row
          </label>
          <div className="two-col">
            <div>
              <label htmlFor={id('ar')}>When the alert resolves</label>
              <select
                id={id('ar')}
                value={cfg.autoResolve?.mode ?? 'resolve'}
                onChange={(e) => setCfg({ autoResolve: { ...(cfg.autoResolve ?? {}), mode: e.target.value } })}
              >
                <option value="resolve">Resolve the work item</option>
                <option value="note">Add a note only</option>
                <option value="none">Do nothing</option>
              </select>
            </div>
            <div>
              <label htmlFor={id('reopen')}>Reopen window</label>
              <input
                id={id('reopen')}
                type="text"
                placeholder="e.g. P1D, PT4H (empty: never reopen)"
                value={cfg.reopenWindow ?? ''}
                onChange={(e) => setCfg({ reopenWindow: e.target.value || undefined })}
              />
            </div>
          </div>
          {cfg.autoResolve?.mode === 'resolve' && type === 'Incident' && (
            <div className="two-col">
              <div>
                <label htmlFor={id('cc')}>Close code</label>
                <select
                  id={id('cc')}
                  value={cfg.autoResolve?.closeCode ?? ''}
                  onChange={(e) => setCfg({ autoResolve: { ...cfg.autoResolve, closeCode: e.target.value || undefined } })}
                >
                  <option value="">(default)</option>
                  {(fieldChoices.get('close_code') ?? []).map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label htmlFor={id('cn')}>Close notes</label>
                <input
                  id={id('cn')}
                  type="text"
                  value={cfg.autoResolve?.closeNotes ?? ''}
                  onChange={(e) => setCfg({ autoResolve: { ...cfg.autoResolve, closeNotes: e.target.value || undefined } })}
                />
              </div>
            </div>
          )}
          <button type="button" className="danger" onClick={onRemove} style={{ marginTop: 8 }}>
            Remove this action
          </button>
        </div>
        <ActionPreview receiver={receiver} />
      </div>
    </fieldset>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/**
 * The connector's live check and preview of an action (debounced). The editor and the preview panel share it:
 * the same query key, so one request.
 */
function useActionPreview(receiver: Receiver) {
  const { workspace } = useSession();
  const body = useDebounced(JSON.stringify({ ticketConfiguration: clean(receiver.ticketConfiguration), connectionName: receiver.connectionName }), 300);
  return useQuery({
    queryKey: ['preview', workspace, body],
    queryFn: () =>
      api<{ problems: Problem[]; value: Preview[] }>(wsPath(workspace, '/itsmActions/preview'), {
        method: 'POST',
        body: JSON.parse(body),
      }),
    placeholderData: (prev) => prev,
  });
}

/** What this action would create, rendered by the connector from a sample alert of the chosen family. */
function ActionPreview({ receiver }: { receiver: Receiver }) {
  const preview = useActionPreview(receiver);
  const [family, setFamily] = useState('azure-common-metric');
  const p = preview.data?.value.find((x) => x.family === family) ?? preview.data?.value[0];
  return (
    <section className="preview" aria-label="Live preview" aria-live="polite">
      <h3>Live preview</h3>
      <label htmlFor={`pv-${receiver.name}`}>Sample alert</label>
      <select id={`pv-${receiver.name}`} value={p?.family ?? family} onChange={(e) => setFamily(e.target.value)}>
        {(preview.data?.value ?? []).map((x) => (
          <option key={x.family} value={x.family}>
            {x.family} — {x.sample}
          </option>
        ))}
      </select>
      {preview.error && <ErrorBox error={preview.error} title="This configuration is not valid yet" />}
      {preview.data?.problems.map((pr) => (
        <p key={pr.path + pr.message} className="field-error">
          {pr.path && <code>{pr.path}</code>} {pr.message}
          {pr.allowed && pr.allowed.length <= 12 ? ` (one of: ${pr.allowed.join(', ')})` : ''}
        </p>
      ))}
      {p && !p.draft && <Empty>This alert creates no work item with this configuration.</Empty>}
      {p?.draft && (
        <>
          <p>
            <strong>{p.workItems}</strong> work item{p.workItems === 1 ? '' : 's'}
            {p.draft.templateName ? ` from template ${p.draft.templateName}` : ''}; the first:
          </p>
          <dl className="preview-fields">
            <dt>Title</dt>
            <dd data-preview="title">{p.draft.title}</dd>
            {Object.entries(p.draft.fields).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd data-preview-field={k}>{v}</dd>
              </div>
            ))}
          </dl>
          <details>
            <summary>Description</summary>
            <pre>{p.draft.description}</pre>
          </details>
        </>
      )}
    </section>
  );
}

/** Drops unset optional keys so the schema check does not trip on `undefined`-turned-null values. */
function clean(cfg: Record<string, any>): Record<string, any> {
  return Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined && v !== ''));
}
