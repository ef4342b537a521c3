/**
 * Provance IT Service Management (on Dynamics 365): the connection form only, until the client and its
 * sandbox exist (connections are stored but cannot send or sync). Replace with the full descriptor.
 */
import { formOnlyPartner } from '../form-only.ts';

export const provancePartner = formOnlyPartner('Provance', 'Provance', [
  { name: 'serverUrl', label: 'Server URL', help: 'The Dynamics 365 organization URL, https://<org>.crm.dynamics.com', required: true, secret: false, kind: 'url' },
  { name: 'username', label: 'User name', help: 'The integration user', required: true, secret: false, kind: 'text' },
  { name: 'password', label: 'Password', help: 'Used once to obtain tokens, then dropped', required: true, secret: true, kind: 'password' },
  { name: 'clientId', label: 'Client ID', help: 'Client ID of the Microsoft Entra app registration', required: true, secret: false, kind: 'text' },
]);
