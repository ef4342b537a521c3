/**
 * Provance partner: the Dataverse Web API behind an Azure AD password-grant token, with every
 * Provance-specific name in mapping.ts — unverified against a real Provance instance.
 */
export { provancePartner } from './descriptor.ts';
export { ProvanceClient, partnerKey } from './client.ts';
export { MAPPING_NOTE, MAPPING_VERIFIED, NAMES, OPTIONS, SCOPES, toServiceDeskRow, isIncidentClosed, isChangeClosed } from './mapping.ts';
export { aadError, tokenEndpointFromChallenge } from './tokens.ts';
