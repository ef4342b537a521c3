import type { PartnerFactory, PartnerType } from './partner.ts';

/** The only place that knows every partner; adding a partner adds one line here and nothing elsewhere. */
const factories = new Map<PartnerType, PartnerFactory>();

export function registerPartner(factory: PartnerFactory): void {
  factories.set(factory.type, factory);
}

export function partnerFactory(type: string): PartnerFactory | undefined {
  return factories.get(type as PartnerType);
}
