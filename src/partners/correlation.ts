import { createHash } from 'node:crypto';
import { PartnerError } from './partner.ts';

/**
 * The correlation key as a partner's text field stores it: the key itself when it fits (at most `max`
 * characters, no surrounding white space, and `fits` for the partner's own rules), otherwise
 * `sha-<sha256 hex>` of it — deterministic, so a lookup finds what a create wrote. An empty key is refused.
 */
export function storedCorrelationKey(correlationKey: string, max: number, fits: (key: string) => boolean = () => true): string {
  if (correlationKey === '') throw new PartnerError('invalid', 'a work item needs a non-empty correlation key');
  if (correlationKey.length <= max && correlationKey.trim() === correlationKey && fits(correlationKey)) return correlationKey;
  return `sha-${createHash('sha256').update(correlationKey, 'utf8').digest('hex')}`;
}
