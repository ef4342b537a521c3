/** Alert payload ingestion: every supported webhook family → NormalizedAlert[]. Pure: no I/O. */
export { parseAlertPayload, detectShape, PAYLOAD_SHAPES } from './detect.ts';
export type { ParseOptions, PayloadShape } from './detect.ts';
export { IngestError } from './errors.ts';
export type { IngestErrorDetails, IngestMismatch } from './errors.ts';
export { parseTimestamp } from './dates.ts';
export { toSeverity, fromEventLevel, DEFAULT_SEVERITY } from './severity.ts';
export { ciName, ciOfRow, isResourceId, resourceName, CI_COLUMNS } from './ci.ts';
