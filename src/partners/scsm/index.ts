/**
 * System Center Service Manager: the connection form only, until the client and its sandbox exist
 * (connections are stored but cannot send or sync). Replace with the full descriptor.
 */
import { formOnlyPartner } from '../form-only.ts';

export const scsmPartner = formOnlyPartner('SCSM', 'System Center Service Manager', [
  { name: 'serverUrl', label: 'Server URL', help: 'URL of the Service Manager web app (the ITSMC connector web app)', required: true, secret: false, kind: 'url' },
  { name: 'clientId', label: 'Client ID', help: 'Client ID of the web app’s Microsoft Entra registration', required: true, secret: false, kind: 'text' },
  { name: 'clientSecret', label: 'Client secret', help: 'Client secret of the same registration', required: true, secret: true, kind: 'password' },
]);
