/**
 * The descriptor of a partner whose client is not written yet: its connection form and Incident-only
 * defaults, so connections to it can be stored (they cannot send or sync until `create` exists).
 */
import { DEFAULT_SEVERITY_MAPPING } from '../actions/ticket-config.ts';
import { DEFAULT_FIELD_LIMITS } from '../actions/render.ts';
import { tableMatchesTypeBySubstring, type ConnectionField, type PartnerDescriptor } from './descriptor.ts';

export function formOnlyPartner<T extends string>(type: T, displayName: string, connectionFields: readonly ConnectionField[]) {
  return {
    type,
    displayName,
    connectionFields,
    workItemTypes: ['Incident'],
    syncScopes: ['Incident', 'ChangeRequest'],
    severity: { defaultMapping: DEFAULT_SEVERITY_MAPPING },
    fieldLimits: DEFAULT_FIELD_LIMITS,
    // 90 days: what Microsoft's ITSMC guide tells users to configure.
    tokens: { refreshSeconds: 90 * 86400 },
    configuration: { tableMatchesType: tableMatchesTypeBySubstring },
    serviceDesk: { columns: [], verified: false },
  } as const satisfies PartnerDescriptor<T>;
}
