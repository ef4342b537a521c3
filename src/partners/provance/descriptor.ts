/**
 * Provance as one descriptor: ITSMC's Provance connection form (Username, Password, Server URL, Client ID —
 * no secret), the Dataverse host rule, Incident (case) work items, the 1–3 impact/urgency scale, Dataverse
 * column lengths, Azure AD's refresh-token lifetime and the ServiceDesk_CL mapping — unverified against a
 * real Provance instance (mapping.ts).
 */
import { tableMatchesTypeBySubstring, type ConnectionField, type PartnerDescriptor } from '../descriptor.ts';
import { DEFAULT_SEVERITY_MAPPING } from '../../actions/ticket-config.ts';
import { ProvanceClient } from './client.ts';
import { MAPPING_VERIFIED, SCOPES } from './mapping.ts';

const connectionFields: readonly ConnectionField[] = [
  {
    name: 'serverUrl',
    label: 'Server URL',
    help: 'The Dynamics 365 organization URL of Provance, https://<org>.crm.dynamics.com (entity and field names are unverified against a real Provance instance)',
    required: true,
    secret: false,
    kind: 'url',
  },
  { name: 'username', label: 'User name', help: 'The integration user (user@tenant), signing in with Azure AD', required: true, secret: false, kind: 'text' },
  { name: 'password', label: 'Password', help: 'Used once to obtain Azure AD tokens, then dropped', required: true, secret: true, kind: 'password' },
  {
    name: 'clientId',
    label: 'Client ID',
    help: "Client ID of the Azure AD (Microsoft Entra) app registration of Provance, with 'Allow public client flows' on; no secret",
    required: true,
    secret: false,
    kind: 'text',
  },
];

const columns = [...new Set(['ServiceDeskWorkItemType_s', ...Object.values(SCOPES).flatMap((s) => Object.keys(s.columns))])];

export const provancePartner = {
  type: 'Provance',
  displayName: 'Provance',
  connectionFields,
  // Dataverse organisations live on <org>.crm<N>.dynamics.com; an on-premises server must be allow-listed.
  checkServerHost: (host: string) =>
    /\.dynamics\.com$/.test(host)
      ? null
      : 'a Provance URL must be the Dynamics 365 organization, https://<org>.crm.dynamics.com, unless the host is allow-listed',
  workItemTypes: ['Incident'],
  syncScopes: ['Incident', 'ChangeRequest'],
  // impact/urgency 1 High … 3 Low, mapped onto the Provance option sets in mapping.ts.
  severity: { defaultMapping: DEFAULT_SEVERITY_MAPPING },
  // Dataverse: incident.title 200, incident.description 2000, incidentresolution.description 10000.
  fieldLimits: { titleMax: 200, descriptionMax: 2000, noteMax: 10000, unit: 'utf16' },
  // Azure AD refresh tokens last until 90 days without use; the token answer does not say.
  tokens: { refreshSeconds: 90 * 86_400 },
  // The case table is `incident`.
  configuration: { tableMatchesType: tableMatchesTypeBySubstring },
  serviceDesk: { columns, verified: MAPPING_VERIFIED },
  create: (ctx) => new ProvanceClient(ctx),
} as const satisfies PartnerDescriptor<'Provance'>;
