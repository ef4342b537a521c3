/** What the API and the dashboard show of each registered partner: built from the descriptors alone. */
import type { ConnectionField, SeverityMapping } from './descriptor.ts';
import { partners } from './registry.ts';
import type { SyncScope, WorkItemType } from './partner.ts';

export interface PartnerView {
  type: string;
  displayName: string;
  connectionFields: ConnectionField[];
  workItemTypes: WorkItemType[];
  syncScopes: SyncScope[];
  /** Sev0–Sev4 → impact/urgency of an Incident when the ITSM action sets no severityMapping of its own. */
  defaultSeverityMapping: SeverityMapping;
  /** The ServiceDesk_CL mapping was checked against the product's documented fields. */
  mappingVerified: boolean;
  /** False while only the connection form exists (connections are stored but cannot send or sync). */
  clientAvailable: boolean;
  sandboxAvailable: boolean;
}

export function partnerCatalog(): PartnerView[] {
  return partners.map((p) => ({
    type: p.type,
    displayName: p.displayName,
    connectionFields: p.connectionFields.map((f) => ({ ...f })),
    workItemTypes: [...p.workItemTypes],
    syncScopes: [...p.syncScopes],
    defaultSeverityMapping: structuredClone(p.severity.defaultMapping),
    mappingVerified: p.serviceDesk.verified,
    clientAvailable: 'create' in p && typeof p.create === 'function',
    sandboxAvailable: 'sandbox' in p && p.sandbox !== undefined,
  }));
}
