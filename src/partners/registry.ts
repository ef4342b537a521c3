/**
 * The one file that lists partners: adding a partner adds one line to `partners` (its descriptor, with its
 * sandbox section when it has an emulator). Everything else iterates over this list.
 */
import type { PartnerDescriptor } from './descriptor.ts';
import { serviceNowPartner } from './servicenow/descriptor.ts';
import { scsmPartner } from './scsm/index.ts';
import { cherwellPartner } from './cherwell/index.ts';
import { provancePartner } from './provance/descriptor.ts';
import { serviceNowSandbox } from '../sandbox/servicenow/descriptor.ts';
import { scsmSandbox } from '../sandbox/scsm/descriptor.ts';
import { cherwellSandbox } from '../sandbox/cherwell/descriptor.ts';
import { provanceSandbox } from '../sandbox/provance/descriptor.ts';

export const partners = [
  { ...serviceNowPartner, sandbox: serviceNowSandbox },
  { ...scsmPartner, sandbox: scsmSandbox },
  { ...cherwellPartner, sandbox: cherwellSandbox },
  { ...provancePartner, sandbox: provanceSandbox },
] as const satisfies readonly PartnerDescriptor[];

export type PartnerType = (typeof partners)[number]['type'];

export const partnerTypes: readonly PartnerType[] = partners.map((p) => p.type);

const byType = new Map<string, PartnerDescriptor>(partners.map((p) => [p.type, p]));

export function partnerDescriptor(type: string): PartnerDescriptor | undefined {
  return byType.get(type);
}

/** Partners with an emulator, in registry order (the quick start starts each). */
export function sandboxedPartners(): (PartnerDescriptor & { sandbox: NonNullable<PartnerDescriptor['sandbox']> })[] {
  return partners.filter(
    (p): p is (typeof partners)[number] & { sandbox: NonNullable<PartnerDescriptor['sandbox']> } => 'sandbox' in p && p.sandbox !== undefined,
  );
}
