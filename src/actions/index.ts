/** ITSM actions: ticketConfiguration, placeholders, grouping/dedup decisions and rendering. Pure: no I/O. */
export * from './ticket-config.ts';
export * from './placeholders.ts';
export * from './grouping.ts';
export * from './render.ts';
export { truncateText, measure, wellFormed, oneLine, cleanMultiline, ELLIPSIS } from './text.ts';
export type { LengthUnit } from './text.ts';
