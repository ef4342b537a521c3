/**
 * Cherwell Service Management: the connection form only, until the client and its sandbox exist
 * (connections are stored but cannot send or sync). Replace with the full descriptor.
 */
import { formOnlyPartner } from '../form-only.ts';

export const cherwellPartner = formOnlyPartner('Cherwell', 'Cherwell', [
  { name: 'serverUrl', label: 'Server URL', help: 'The CherwellAPI base URL, https://<host>/CherwellAPI', required: true, secret: false, kind: 'url' },
  { name: 'username', label: 'User name', help: 'The integration user', required: true, secret: false, kind: 'text' },
  { name: 'password', label: 'Password', help: 'Used once to obtain tokens, then dropped', required: true, secret: true, kind: 'password' },
  { name: 'clientId', label: 'Client ID', help: 'The REST API client key (CSM Administrator → Security → REST API client settings)', required: true, secret: false, kind: 'text' },
]);
