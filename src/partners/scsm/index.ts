/**
 * System Center Service Manager as one descriptor: ITSMC's SCSM connection form (the Service Manager web
 * app's URL and its Azure AD application), incidents only (as ITSMC), SCSM's High/Medium/Low scales and
 * field lengths, and the ServiceDesk_CL columns its mapping fills.
 */
import type { SeverityMapping } from '../descriptor.ts';
import { tableMatchesTypeBySubstring, type ConnectionField, type PartnerDescriptor } from '../descriptor.ts';
import { ScsmClient } from './client.ts';
import { serviceDeskColumns } from './mapping.ts';

const connectionFields: readonly ConnectionField[] = [
  {
    name: 'serverUrl',
    label: 'Server URL',
    help: 'URL of the Service Manager web app (https://<app>.azurewebsites.net), not of the SCSM server',
    required: true,
    secret: false,
    kind: 'url',
  },
  {
    name: 'clientId',
    label: 'Client ID',
    help: 'Application (client) ID the web app deployment script printed; the web app whitelists only this one',
    required: true,
    secret: false,
    kind: 'text',
  },
  { name: 'clientSecret', label: 'Client secret', help: 'Client secret of the same Azure AD application', required: true, secret: true, kind: 'password' },
];

/** Sev0–Sev4 on SCSM's Impact × Urgency enums; the Incident Settings matrix derives Priority from them. */
const defaultMapping: SeverityMapping = {
  Sev0: { impact: 'High', urgency: 'High' },
  Sev1: { impact: 'High', urgency: 'Medium' },
  Sev2: { impact: 'Medium', urgency: 'Medium' },
  Sev3: { impact: 'Medium', urgency: 'Low' },
  Sev4: { impact: 'Low', urgency: 'Low' },
};

export const scsmPartner = {
  type: 'SCSM',
  displayName: 'System Center Service Manager',
  connectionFields,
  checkServerHost: (host: string) =>
    /\.azurewebsites\.net$/.test(host)
      ? null
      : 'an SCSM Server URL is the Service Manager web app, https://<app>.azurewebsites.net, unless the host is allow-listed',
  // ITSMC created only incidents in SCSM.
  workItemTypes: ['Incident'],
  syncScopes: ['Incident', 'ChangeRequest'],
  severity: { defaultMapping },
  // System.WorkItem: Title 200, Description 4000; an action-log Comment 4000 (.NET strings count UTF-16 units).
  fieldLimits: { titleMax: 200, descriptionMax: 4000, noteMax: 4000, unit: 'utf16' },
  // Client credentials: no refresh token; the Azure AD client secret itself lasts at most two years.
  tokens: { refreshSeconds: 730 * 86400 },
  configuration: { tableMatchesType: tableMatchesTypeBySubstring },
  // Microsoft never documented ITSMC's SCSM mapping (itsmc-features §2.1): ours, see the README's SCSM section.
  serviceDesk: { columns: serviceDeskColumns, verified: false },
  create: (ctx) => new ScsmClient(ctx),
} as const satisfies PartnerDescriptor<'SCSM'>;
