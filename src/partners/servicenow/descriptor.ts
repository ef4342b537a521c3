/** ServiceNow as one descriptor: connection form, host rule, scales, limits, tokens, matching and mapping. */
import { tableMatchesTypeBySubstring, type ConnectionField, type PartnerDescriptor } from '../descriptor.ts';
import { DEFAULT_SEVERITY_MAPPING } from '../../actions/ticket-config.ts';
import { ServiceNowClient } from './client.ts';
import { eventSeverity, serviceDeskColumns } from './mapping.ts';

const connectionFields: readonly ConnectionField[] = [
  { name: 'serverUrl', label: 'Server URL', help: 'The instance URL, https://<instance>.service-now.com', required: true, secret: false, kind: 'url' },
  {
    name: 'username',
    label: 'User name',
    help: 'The integration user (roles itil, personalize_choices, template_editor …)',
    required: true,
    secret: false,
    kind: 'text',
  },
  { name: 'password', label: 'Password', help: 'Used once to obtain OAuth tokens, then dropped', required: true, secret: true, kind: 'password' },
  { name: 'clientId', label: 'Client ID', help: 'Client ID of the System OAuth → Application Registry entry', required: true, secret: false, kind: 'text' },
  {
    name: 'clientSecret',
    label: 'Client secret',
    help: 'Client secret of the same Application Registry entry',
    required: true,
    secret: true,
    kind: 'password',
  },
];

export const serviceNowPartner = {
  type: 'ServiceNow',
  displayName: 'ServiceNow',
  connectionFields,
  checkServerHost: (host: string) =>
    /\.(service-now|servicenow)\.com$/.test(host)
      ? null
      : 'a ServiceNow URL must be https://<instance>.service-now.com (or *.servicenow.com) unless the host is allow-listed',
  workItemTypes: ['Incident', 'Event', 'Alert'],
  syncScopes: ['Incident', 'ChangeRequest'],
  severity: {
    // ITIL's impact/urgency 1 High … 3 Low: the instance's priority lookup makes P1 Critical … P5 Planning of them.
    defaultMapping: DEFAULT_SEVERITY_MAPPING,
    eventSeverity,
  },
  // Base-instance dictionary lengths: incident.short_description 160, description, work_notes and close_notes 4000.
  fieldLimits: { titleMax: 160, descriptionMax: 4000, noteMax: 4000, unit: 'utf16' },
  // The instance default refresh-token lifespan (8,640,000 s = 100 days); the token answer does not carry it.
  tokens: { refreshSeconds: 8_640_000 },
  // incident, em_event and em_alert hold Incident, Event and Alert.
  configuration: { tableMatchesType: tableMatchesTypeBySubstring },
  serviceDesk: { columns: serviceDeskColumns.map((c) => c.name), verified: true },
  create: (ctx) => new ServiceNowClient(ctx),
} as const satisfies PartnerDescriptor<'ServiceNow'>;
