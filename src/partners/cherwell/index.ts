/** Cherwell Service Management partner: factory plus the helpers the action and sync layers use. */
import type { PartnerFactory } from '../partner.ts';
import { CherwellClient } from './client.ts';

export const cherwellPartner: PartnerFactory = {
  type: 'Cherwell',
  // Sandbox/OOTB-like lengths: Incident.ShortDescription 250; Description and journal Details are large text.
  fieldLimits: { titleMax: 250, descriptionMax: 8000, noteMax: 8000, unit: 'utf16' },
  create: (ctx) => new CherwellClient(ctx),
};

export { CherwellClient, cherwellKey } from './client.ts';
export type { CherwellClientOptions } from './client.ts';
export { toServiceDeskRow, isIncidentClosed, isChangeClosed, syncFieldNames, cherwellDateToIso } from './mapping.ts';
