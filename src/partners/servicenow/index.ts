/** ServiceNow partner: factory plus the helpers the action and sync layers use. */
import type { PartnerFactory } from '../partner.ts';
import { ServiceNowClient } from './client.ts';

export const serviceNowPartner: PartnerFactory = {
  type: 'ServiceNow',
  // Base-instance dictionary lengths: incident.short_description 160, description, work_notes and close_notes 4000.
  fieldLimits: { titleMax: 160, descriptionMax: 4000, noteMax: 4000, unit: 'utf16' },
  // Application Registry "Refresh Token Lifespan" default: 8,640,000 s (100 days).
  refreshTokenLifetimeSeconds: 8_640_000,
  create: (ctx) => new ServiceNowClient(ctx),
};

export { ServiceNowClient, partnerKey, CORRELATION_DISPLAY, EVENT_SOURCE } from './client.ts';
export type { ServiceNowClientOptions } from './client.ts';
export {
  serviceDeskColumns,
  toServiceDeskRow,
  eventSeverity,
  isEventSeverity,
  isIncidentClosed,
  isChangeClosed,
  isAlertClosed,
  snDateToIso,
  isoToSnDate,
} from './mapping.ts';
export type { ServiceDeskColumn, KustoType, EventSeverity, ServiceDeskRow } from './mapping.ts';
export { encodeQuery, assertSafeValue } from './query.ts';
export type { Condition, Operator, QuerySpec } from './query.ts';
