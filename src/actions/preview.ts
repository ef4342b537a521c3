/**
 * Live preview for the ITSM action editor: what one action would create for a sample alert of each payload
 * family — the same expansion and rendering delivery uses (expandAlert + buildDraft), on documented sample
 * payloads (preview-samples.json, one per family, taken from the ingestion fixtures).
 */
import type { PayloadFamily } from '../core/alert.ts';
import { parseAlertPayload } from '../ingest/detect.ts';
import { buildDraft, expandAlert, type DecideOptions, type WorkItemDraft } from './grouping.ts';
import { normalizeTicketConfiguration, type PartnerRules } from './ticket-config.ts';
import samples from './preview-samples.json' with { type: 'json' };

export interface ActionPreview {
  family: PayloadFamily;
  sample: string;
  rule: string;
  monitorCondition: string;
  /** Work items this alert would create (one per CI or per log row when so configured). */
  workItems: number;
  /** The first of them. */
  draft: Omit<WorkItemDraft, 'correlationKey'> | null;
}

const RECEIVED_AT = '2026-01-01T00:00:00.000Z';

export const previewFamilies = Object.keys(samples) as PayloadFamily[];

/** `partner`: the connection's partner (its severity scales and field limits), as delivery would apply them. */
export function previewAction(
  ticketConfiguration: Record<string, unknown>,
  partner?: Pick<PartnerRules, 'severity'> & { fieldLimits?: DecideOptions['limits'] },
  families: readonly PayloadFamily[] = previewFamilies,
): ActionPreview[] {
  const cfg = normalizeTicketConfiguration(ticketConfiguration, partner);
  const options: DecideOptions = { limits: partner?.fieldLimits, eventSeverity: partner?.severity.eventSeverity };
  const table = samples as Record<string, { name: string; payload: unknown }>;
  return families
    .filter((f) => Object.hasOwn(table, f))
    .map((family) => {
      const alert = parseAlertPayload(table[family].payload, { receivedAt: RECEIVED_AT })[0];
      const units = expandAlert(alert, cfg, 'preview');
      const draft = units.length ? buildDraft(units[0], cfg, '', options) : null;
      if (draft) delete (draft as Partial<WorkItemDraft>).correlationKey;
      return { family, sample: table[family].name, rule: alert.rule, monitorCondition: alert.monitorCondition, workItems: units.length, draft };
    });
}
