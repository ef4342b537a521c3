/**
 * The ITSM action's severity → impact/urgency editor (Incidents): each row shows the partner's default from
 * its descriptor until the user overrides it; an override can be reset. Only overridden rows are stored
 * (`ticketConfiguration.severityMapping`), so a row left alone follows the partner default.
 */
import { SEVERITIES, type ImpactUrgency, type Severity, type SeverityMapping } from '../lib/partners';

export interface ChoiceOption {
  value: string;
  label: string;
}

const FIELDS = ['impact', 'urgency'] as const;
type Field = (typeof FIELDS)[number];

const labelOf = (options: ChoiceOption[] | undefined, v: string) => options?.find((o) => o.value === v)?.label ?? v;

/**
 * `problems`: messages keyed by the path under `severityMapping` (`Sev1.urgency`, `Sev1`, or '' for the whole
 * mapping), from the live check and from the last save.
 */
export function SeverityMappingEditor({
  idPrefix,
  mapping,
  defaults,
  options,
  usesTemplate,
  problems,
  onChange,
}: {
  idPrefix: string;
  mapping: SeverityMapping | undefined;
  defaults: SeverityMapping | undefined;
  options: Partial<Record<Field, ChoiceOption[]>>;
  usesTemplate: boolean;
  problems: Map<string, string[]>;
  onChange(next: SeverityMapping | undefined): void;
}) {
  const overrides = mapping ?? {};
  const id = (sev: Severity, f: Field) => `${idPrefix}-${sev}-${f}`;
  const set = (sev: Severity, entry: ImpactUrgency | undefined) => {
    const next: SeverityMapping = { ...overrides };
    if (entry) next[sev] = entry;
    else delete next[sev];
    onChange(Object.keys(next).length ? next : undefined);
  };
  /** Reset disables the row's button: focus moves to the row's first control instead of being lost. */
  const focusLater = (elementId: string) => setTimeout(() => document.getElementById(elementId)?.focus(), 0);
  const overall = [...problems.entries()].filter(([k]) => !(SEVERITIES as readonly string[]).includes(k.split('.')[0]));

  return (
    <fieldset className="severity-map" aria-describedby={`${idPrefix}-help`}>
      <legend>Severity → impact and urgency</legend>
      <p className="help" id={`${idPrefix}-help`}>
        The alert&rsquo;s severity sets the incident&rsquo;s impact and urgency (the partner derives the priority from them). A row follows the partner default
        until you change it.
        {usesTemplate ? ' With a template, the template’s impact and urgency apply unless you override a row here.' : ''}
      </p>
      {overall.map(([k, msgs]) =>
        msgs.map((m) => (
          <p key={k + m} className="field-error" role="alert">
            {m}
          </p>
        )),
      )}
      <table className="list sev-map">
        <caption className="sr-only">Severity to impact and urgency</caption>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Impact</th>
            <th scope="col">Urgency</th>
            <th scope="col">Source</th>
            <th scope="col">
              <span className="sr-only">Reset</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {SEVERITIES.map((sev) => {
            const def = defaults?.[sev];
            const own = overrides[sev];
            const shown = own ?? def ?? { impact: '', urgency: '' };
            const rowErrors = problems.get(sev) ?? [];
            return (
              <tr key={sev} data-severity={sev} data-source={own ? 'override' : 'default'}>
                <th scope="row">
                  {sev}
                  {rowErrors.map((m) => (
                    <p key={m} className="field-error">
                      {m}
                    </p>
                  ))}
                </th>
                {FIELDS.map((f) => {
                  const errs = problems.get(`${sev}.${f}`) ?? (own && own[f].trim() === '' ? [`Enter the ${f}.`] : []);
                  const errId = `${id(sev, f)}-err`;
                  const common = {
                    id: id(sev, f),
                    'aria-label': `${sev} ${f}`,
                    'aria-invalid': errs.length > 0 || undefined,
                    'aria-describedby': errs.length ? errId : undefined,
                    value: shown[f],
                  };
                  const change = (v: string) => set(sev, { ...shown, [f]: v });
                  const opts = options[f];
                  return (
                    <td key={f}>
                      {opts?.length ? (
                        <select {...common} onChange={(e) => change(e.target.value)}>
                          {!opts.some((o) => o.value === shown[f]) && <option value={shown[f]}>{shown[f] || '(choose)'}</option>}
                          {opts.map((o) => (
                            <option key={o.value} value={o.value}>
                              {o.label}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <input {...common} type="text" maxLength={40} onChange={(e) => change(e.target.value)} />
                      )}
                      {errs.length > 0 && (
                        <p className="field-error" id={errId}>
                          {errs.join(' ')}
                        </p>
                      )}
                    </td>
                  );
                })}
                <td>
                  {own ? (
                    <>
                      <span className="badge warn">Override</span>
                      {def && (
                        <span className="help" data-default>
                          {' '}
                          default {labelOf(options.impact, def.impact)} / {labelOf(options.urgency, def.urgency)}
                        </span>
                      )}
                    </>
                  ) : def ? (
                    <span className="muted">Partner default</span>
                  ) : (
                    <span className="muted">No partner default known</span>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="link"
                    disabled={!own}
                    onClick={() => {
                      set(sev, undefined);
                      focusLater(id(sev, 'impact'));
                    }}
                  >
                    Reset<span className="sr-only"> {sev} to the partner default</span>
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {Object.keys(overrides).length > 0 && (
        <button
          type="button"
          onClick={() => {
            onChange(undefined);
            focusLater(id('Sev0', 'impact'));
          }}
        >
          Reset all to the partner default
        </button>
      )}
    </fieldset>
  );
}
