/**
 * Cherwell Service Management (Ivanti CSM) as one descriptor: ITSMC's Cherwell connection form, the
 * `/CherwellAPI` REST API client, High/Medium/Low impact and urgency, field lengths, token lifetime, the
 * ServiceDesk_CL mapping. Its emulator is src/sandbox/cherwell (the registry adds it as `sandbox`).
 */
import type { ConnectionField, PartnerDescriptor, SeverityMapping } from '../descriptor.ts';
import { CherwellClient } from './client.ts';
import { BUSINESS_OBJECT, serviceDeskColumns } from './mapping.ts';

const connectionFields: readonly ConnectionField[] = [
  { name: 'serverUrl', label: 'Server URL', help: 'The Cherwell REST API base URL, https://<host>/CherwellAPI', required: true, secret: false, kind: 'url' },
  {
    name: 'username',
    label: 'User name',
    help: 'The Cherwell integration user (each sign-in takes a CSM licence; the connector keeps one)',
    required: true,
    secret: false,
    kind: 'text',
  },
  { name: 'password', label: 'Password', help: 'Used once to obtain tokens, then dropped', required: true, secret: true, kind: 'password' },
  {
    name: 'clientId',
    label: 'Client ID',
    help: 'The REST API client key (CSM Administrator → Security → Edit REST API client settings)',
    required: true,
    secret: false,
    kind: 'text',
  },
];

/** Sev0–4 on Cherwell's Impact / Urgency values; the server's priority matrix turns them into Priority 1–5. */
const defaultMapping: SeverityMapping = {
  Sev0: { impact: 'High', urgency: 'High' },
  Sev1: { impact: 'High', urgency: 'Medium' },
  Sev2: { impact: 'Medium', urgency: 'Medium' },
  Sev3: { impact: 'Medium', urgency: 'Low' },
  Sev4: { impact: 'Low', urgency: 'Low' },
};

export const cherwellPartner = {
  type: 'Cherwell',
  displayName: 'Cherwell',
  connectionFields,
  workItemTypes: ['Incident'],
  syncScopes: ['Incident', 'ChangeRequest'],
  severity: { defaultMapping },
  // Incident.ShortDescription is a 250-character text field; Description and journal Details are large text.
  fieldLimits: { titleMax: 250, descriptionMax: 8000, noteMax: 8000, unit: 'utf16' },
  // The REST API client's default refresh-token lifespan, 1440 minutes; the token answer does not carry it.
  tokens: { refreshSeconds: 86_400 },
  // Choice lists are per business object (Incident, ChangeRequest): matched by name.
  configuration: { tableMatchesType: (table, type) => type === 'Incident' && table.toLowerCase() === BUSINESS_OBJECT.Incident.toLowerCase() },
  // Field names from Cherwell's out-of-the-box Incident/ChangeRequest; only the Incident ids are documented.
  serviceDesk: { columns: serviceDeskColumns, verified: false },
  create: (ctx) => new CherwellClient(ctx),
} as const satisfies PartnerDescriptor<'Cherwell'>;

export { CherwellClient, cherwellKey } from './client.ts';
export type { CherwellClientOptions } from './client.ts';
