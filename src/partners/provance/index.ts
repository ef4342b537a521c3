/**
 * Provance partner: the Dataverse Web API behind an Azure AD password-grant token, with every
 * Provance-specific name in mapping.ts — unverified against a real Provance instance.
 */
import type { PartnerFactory } from '../partner.ts';
import { ProvanceClient } from './client.ts';

export const provancePartner: PartnerFactory = {
  type: 'Provance',
  // Dataverse column lengths: incident.title 200, incident.description 2000, incidentresolution.description 10000.
  fieldLimits: { titleMax: 200, descriptionMax: 2000, noteMax: 10000, unit: 'utf16' },
  create: (ctx) => new ProvanceClient(ctx),
};

export { ProvanceClient, partnerKey } from './client.ts';
export { MAPPING_NOTE, MAPPING_VERIFIED, NAMES, OPTIONS, SCOPES, toServiceDeskRow, isIncidentClosed, isChangeClosed } from './mapping.ts';
export { aadError, tokenEndpointFromChallenge } from './tokens.ts';
