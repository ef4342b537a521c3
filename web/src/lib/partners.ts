/**
 * Partner descriptors: the fields, labels, help and validation of each partner's connection form, its work
 * item types and sync scopes. The connector's `GET /api/v1/partners` is the source; the local description
 * below is only the fallback for a connector without that endpoint (404).
 */
import { useQuery } from '@tanstack/react-query';
import { api, ApiError } from './api';

export interface PartnerField {
  name: string;
  label: string;
  help?: string;
  required: boolean;
  /** Never pre-filled; on edit, empty keeps the stored value. */
  secret: boolean;
  type: 'text' | 'url' | 'password' | 'number' | 'boolean' | 'multiselect';
  options?: string[];
  min?: number;
  max?: number;
}

export type Severity = 'Sev0' | 'Sev1' | 'Sev2' | 'Sev3' | 'Sev4';
export const SEVERITIES: readonly Severity[] = ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'];
export interface ImpactUrgency {
  impact: string;
  urgency: string;
}
export type SeverityMapping = Partial<Record<Severity, ImpactUrgency>>;

export interface PartnerDescriptor {
  partnerType: string;
  displayName: string;
  fields: PartnerField[];
  workItemTypes: string[];
  /** False while only the connection form exists (the connection is stored but cannot send or sync). */
  clientAvailable: boolean;
  /** Sev → impact/urgency of an Incident when the action overrides nothing (absent in the fallback list). */
  defaultSeverityMapping?: SeverityMapping;
}

const f = (name: string, label: string, required: boolean, extra: Partial<PartnerField> = {}): PartnerField => ({
  name,
  label,
  required,
  secret: false,
  type: 'text',
  ...extra,
});
/** The sync settings every partner's form ends with (the descriptor describes the credentials). */
const syncFields = (scopes: string[]): PartnerField[] => [
  f('dataSyncScope', 'Data to sync', false, { type: 'multiselect', options: scopes, help: 'Work item types copied into ServiceDesk_CL.' }),
  f('syncDataDays', 'Sync data (days)', false, { type: 'number', min: 1, max: 120, help: 'How far back the first sync reads (1–120).' }),
  f('syncIntervalSeconds', 'Sync interval (seconds)', false, { type: 'number', min: 30, max: 86400, help: 'How often changes are read (30–86400).' }),
  f('createNewConfigurationItems', 'Create new configuration items', false, {
    type: 'boolean',
    help: 'Create a CI in the partner when an alert names one it does not know.',
  }),
];
const common = syncFields(['Incident', 'ChangeRequest']);
const serverUrl = (help: string) => f('serverUrl', 'Server URL', true, { type: 'url', help });
const secret = (name: string, label: string, required: boolean, help: string) => f(name, label, required, { type: 'password', secret: true, help });

export const FALLBACK_PARTNERS: PartnerDescriptor[] = [
  {
    partnerType: 'ServiceNow',
    displayName: 'ServiceNow',
    fields: [
      serverUrl('The instance URL, e.g. https://contoso.service-now.com'),
      f('username', 'User name', true, { help: 'The integration user (itil and rest_service roles).' }),
      secret('password', 'Password', true, 'Used once to obtain OAuth tokens; never stored.'),
      f('clientId', 'Client ID', true, { help: 'From System OAuth > Application Registry.' }),
      secret('clientSecret', 'Client secret', true, 'Stored encrypted.'),
      ...common,
    ],
    workItemTypes: ['Incident', 'Event', 'Alert'],
    clientAvailable: true,
  },
  {
    partnerType: 'SCSM',
    displayName: 'System Center Service Manager',
    fields: [
      serverUrl('The Service Manager web app URL'),
      f('clientId', 'Client ID', true),
      secret('clientSecret', 'Client secret', true, 'Stored encrypted.'),
      ...common,
    ],
    workItemTypes: ['Incident'],
    clientAvailable: false,
  },
  {
    partnerType: 'Cherwell',
    displayName: 'Cherwell',
    fields: [
      serverUrl('e.g. https://contoso.cherwellondemand.com/CherwellAPI'),
      f('username', 'User name', true),
      secret('password', 'Password', true, 'Used once to obtain tokens; never stored.'),
      f('clientId', 'Client ID (API key)', true),
      ...common,
    ],
    workItemTypes: ['Incident'],
    clientAvailable: false,
  },
  {
    partnerType: 'Provance',
    displayName: 'Provance',
    fields: [
      serverUrl('The Dynamics 365 organization URL'),
      f('username', 'User name', true),
      secret('password', 'Password', true, 'Used once to obtain tokens; never stored.'),
      f('clientId', 'Client ID', true),
      ...common,
    ],
    workItemTypes: ['Incident'],
    clientAvailable: false,
  },
];

/** The endpoint's `{value: PartnerView[]}`: credential fields from the descriptor, then the sync settings. */
function fromConnector(body: any): PartnerDescriptor[] {
  const list: any[] = Array.isArray(body?.value) ? body.value : [];
  return list.map((p) => ({
    partnerType: String(p.type),
    displayName: String(p.displayName ?? p.type),
    fields: [
      ...(p.connectionFields ?? []).map((x: any): PartnerField => ({
        name: String(x.name),
        label: String(x.label ?? x.name),
        help: x.help || undefined,
        required: x.required === true,
        secret: x.secret === true,
        type: x.kind === 'password' || x.secret ? 'password' : x.kind === 'url' ? 'url' : 'text',
      })),
      ...syncFields(Array.isArray(p.syncScopes) && p.syncScopes.length ? p.syncScopes : ['Incident', 'ChangeRequest']),
    ],
    workItemTypes: Array.isArray(p.workItemTypes) && p.workItemTypes.length ? p.workItemTypes : ['Incident'],
    clientAvailable: p.clientAvailable !== false,
    ...(p.defaultSeverityMapping && typeof p.defaultSeverityMapping === 'object' ? { defaultSeverityMapping: p.defaultSeverityMapping } : {}),
  }));
}

export async function loadPartners(): Promise<{ partners: PartnerDescriptor[]; source: 'connector' | 'fallback' }> {
  try {
    const partners = fromConnector(await api('/api/v1/partners'));
    if (partners.length) return { partners, source: 'connector' };
  } catch (err) {
    if (!(err instanceof ApiError && (err.status === 404 || err.status === 403))) throw err;
  }
  return { partners: FALLBACK_PARTNERS, source: 'fallback' };
}

/** Client-side checks before the connector's own: required, URL syntax, number bounds. */
export function checkField(field: PartnerField, value: unknown, editing: boolean): string | null {
  const empty = value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
  if (empty) return field.required && !(editing && field.secret) ? `${field.label} is required.` : null;
  if (field.type === 'url') {
    try {
      const u = new URL(String(value));
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'Enter an http(s) URL.';
    } catch {
      return 'Enter a full URL, e.g. https://contoso.service-now.com';
    }
  }
  if (field.type === 'number') {
    const n = Number(value);
    if (!Number.isInteger(n)) return 'Enter a whole number.';
    if (field.min !== undefined && n < field.min) return `At least ${field.min}.`;
    if (field.max !== undefined && n > field.max) return `At most ${field.max}.`;
  }
  return null;
}

export function usePartners() {
  return useQuery({ queryKey: ['partners'], queryFn: loadPartners, staleTime: Infinity });
}

/** The work item types a connection's partner creates (Incident until the descriptors are loaded). */
export function useWorkItemTypes(): (partnerType: string | undefined) => string[] {
  const partners = usePartners();
  return (partnerType) => partners.data?.partners.find((p) => p.partnerType === partnerType)?.workItemTypes ?? ['Incident'];
}

/** The partner's default severity → impact/urgency mapping for Incidents (undefined until loaded, or unknown). */
export function useDefaultSeverityMapping(partnerType: string | undefined): SeverityMapping | undefined {
  const partners = usePartners();
  return partners.data?.partners.find((p) => p.partnerType === partnerType)?.defaultSeverityMapping;
}
