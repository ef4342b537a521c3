/** ServiceNow partner: descriptor plus the helpers its tests and benchmarks use. */
export { serviceNowPartner } from './descriptor.ts';
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
