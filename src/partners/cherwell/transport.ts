/**
 * What Cherwell adds to the shared HTTP (../http.ts): the `/CherwellAPI` base URL, the product's error
 * bodies (`{"Message":…}` from ASP.NET, `errorCode`/`errorMessage` on business calls, `error` /
 * `error_description` from the token endpoint), `hasError` on any 2xx, and its maintenance page.
 */
import { httpSettings, type HttpSettings, type RawResponse } from '../http.ts';
import { PartnerError, type AddressGuard, type PartnerErrorKind } from '../partner.ts';

export const PRODUCT = 'Cherwell';

/** `https://host` or `https://host/CherwellAPI` (any case, trailing slash tolerated) → the API base. */
export function cherwellBaseUrl(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl.trim());
  } catch {
    throw new PartnerError('invalid', `Cherwell server URL "${serverUrl}" is not a valid URL`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = /\/cherwellapi$/i.test(path) ? path : `${path}/CherwellAPI`;
  return url.toString().replace(/\/+$/, '');
}

/** The most telling text of a Cherwell error body. */
export function errorText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const parts = [b.errorCode, b.errorMessage].filter((p): p is string => typeof p === 'string' && p !== '');
  if (parts.length) return parts.join(': ');
  if (typeof b.Message === 'string') return b.Message;
  if (typeof b.error === 'string') return typeof b.error_description === 'string' ? `${b.error}: ${b.error_description}` : b.error;
  return undefined;
}

export function settingsFrom(
  serverUrl: string,
  ctx: { timeoutMs?: number; onResponse?: HttpSettings['onResponse']; addressGuard?: AddressGuard },
): HttpSettings {
  return httpSettings({
    product: PRODUCT,
    serverUrl: cherwellBaseUrl(serverUrl),
    timeoutMs: ctx.timeoutMs,
    onResponse: ctx.onResponse,
    addressGuard: ctx.addressGuard,
    errorText,
  });
}

/** Cherwell's HTML maintenance page (a 200 or a 503): down for now, not the wrong product. */
export function maintenanceError(res: RawResponse): PartnerError | undefined {
  if (!/text\/html/.test(res.contentType) || !/maintenance|service unavailable/i.test(res.text)) return undefined;
  return new PartnerError('unavailable', `Cherwell is down for maintenance (HTML page, HTTP ${res.status}); it is retried later`, {
    status: res.status,
    cause: 'maintenance',
  });
}

/** Cherwell reports many failures in the body of a 2xx answer: `hasError: true` with an errorCode. */
export function hasErrorFailure(method: string, path: string, status: number, body: Record<string, unknown>): PartnerError | undefined {
  if (body.hasError !== true) return undefined;
  const code = typeof body.errorCode === 'string' ? body.errorCode : '';
  const fieldErrors = Array.isArray(body.fieldValidationErrors)
    ? (body.fieldValidationErrors as { error?: unknown; fieldId?: unknown }[]).map((e) => String(e?.error ?? e?.fieldId ?? '')).filter(Boolean)
    : [];
  const text = errorText(body) ?? '';
  const message = [text, ...fieldErrors.filter((e) => !text.includes(e))].filter(Boolean).join('; ');
  const kind: PartnerErrorKind = /NOTFOUND/i.test(code) ? 'not-found' : /SECURITY|RIGHTS|PERMISSION/i.test(code) ? 'forbidden' : 'invalid';
  return new PartnerError(kind, `Cherwell ${method} ${path} answered hasError (${status}): ${message || 'no error message'}`, { status });
}

/** Per-cause reading of a refused password grant: the licence pool is a wait, not a wrong password. */
export function explainLoginRefusal(answer: { status: number; error: string; description: string }): PartnerError | undefined {
  if (/licen[cs]e/i.test(`${answer.error} ${answer.description}`)) {
    return new PartnerError(
      'unavailable',
      `every Cherwell licence is in use, so the integration user cannot sign in (${answer.description || answer.error}); it is retried later`,
      {
        status: answer.status,
        cause: 'licence',
      },
    );
  }
  if (/client/i.test(answer.error)) {
    return new PartnerError(
      'auth',
      `Cherwell does not know the REST API client ID (${answer.error}); check it in CSM Administrator → Security → Edit REST API client settings`,
      {
        status: answer.status,
        cause: 'invalid_client',
      },
    );
  }
  return undefined;
}
