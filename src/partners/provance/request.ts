/**
 * Provance's settings for the shared HTTP helper (src/partners/http.ts): the Dataverse Web API root and
 * its error body `{"error":{"code","message"}}` read as "message (code)".
 */
import { httpSettings, type HttpSettings } from '../http.ts';
import type { PartnerContext } from '../partner.ts';

export const API_ROOT = '/api/data/v9.2';

/** Dataverse error body → "message (code)"; undefined when the body is not one. */
export function dataverseErrorText(body: unknown): string | undefined {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!e || typeof e !== 'object' || typeof e.message !== 'string') return undefined;
  return typeof e.code === 'string' && e.code !== '' ? `${e.message} (${e.code})` : e.message;
}

export function provanceSettings(ctx: PartnerContext): HttpSettings {
  return httpSettings({
    product: 'Provance',
    serverUrl: ctx.credentials.serverUrl,
    timeoutMs: ctx.timeoutMs,
    onResponse: ctx.onResponse,
    addressGuard: ctx.addressGuard,
    errorText: dataverseErrorText,
  });
}
