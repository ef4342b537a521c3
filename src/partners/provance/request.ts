/**
 * The HTTP helper every Provance (Dataverse Web API) call goes through: base URL, bearer token, OData
 * headers, JSON, per-request timeout and error shaping (Dataverse `{"error":{"code","message"}}` →
 * PartnerError, 429 + Retry-After → rate-limited). It never retries a write and never puts tokens into errors.
 */
import { PartnerError, type PartnerErrorKind } from '../partner.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HttpSettings {
  /** Organisation URL, e.g. https://contoso.crm4.dynamics.com (no trailing slash). */
  serverUrl: string;
  timeoutMs: number;
  onResponse?: (info: { method: string; path: string; status: number; ms: number }) => void;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
export const API_ROOT = '/api/data/v9.2';

export function settingsFrom(serverUrl: string, timeoutMs?: number, onResponse?: HttpSettings['onResponse']): HttpSettings {
  let url: URL;
  try {
    url = new URL(serverUrl.trim());
  } catch {
    throw new PartnerError('invalid', `Provance server URL "${serverUrl}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PartnerError('invalid', `Provance server URL must use https (got ${url.protocol})`);
  if (url.username || url.password) throw new PartnerError('invalid', 'Provance server URL must not carry credentials; enter them in the credential fields');
  return { serverUrl: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS, onResponse };
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function networkError(url: string, timeoutMs: number, err: unknown, what: string): PartnerError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new PartnerError('unavailable', `${hostOf(url)} did not answer ${what} within ${timeoutMs} ms`, { cause: 'timeout' });
  }
  const code = e?.cause?.code ?? '';
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found (DNS)'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
          ? 'connection reset'
          : code.startsWith('ERR_TLS') || code.includes('CERT')
            ? `TLS error (${code})`
            : code || e?.cause?.message || e?.message || 'network error';
  return new PartnerError('unavailable', `cannot reach ${hostOf(url)} (${what}): ${reason}`, { cause: code || 'network' });
}

export interface SendOptions {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** Label for errors and the onResponse hook (path without query). */
  label: string;
}

/** Sends one request; throws 'unavailable' on network failure or timeout and never inspects the status. */
export async function send(settings: HttpSettings, o: SendOptions): Promise<RawResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(o.headers ?? {}) };
  let body: string | undefined;
  if (o.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (o.json !== undefined) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(o.json);
  }
  const started = Date.now();
  try {
    const res = await fetch(o.url, { method: o.method, headers, body, signal: AbortSignal.timeout(settings.timeoutMs), redirect: 'manual' });
    const text = await res.text();
    settings.onResponse?.({ method: o.method, path: o.label, status: res.status, ms: Date.now() - started });
    return { status: res.status, headers: res.headers, contentType: (res.headers.get('content-type') ?? '').toLowerCase(), text };
  } catch (err) {
    throw networkError(o.url, settings.timeoutMs, err, `${o.method} ${o.label}`);
  }
}

/** Milliseconds from `Retry-After` (delta-seconds or HTTP date). */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ra = headers.get('retry-after')?.trim();
  if (!ra) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function kindForStatus(status: number): PartnerErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500 || status === 408) return 'unavailable';
  return 'invalid';
}

/** Dataverse error body `{"error":{"code","message"}}` → { code, message }. */
export function dataverseError(text: string): { code: string; message: string } | undefined {
  const body = parseJson(text) as { error?: { code?: unknown; message?: unknown } } | undefined;
  const e = body?.error;
  if (!e || typeof e !== 'object' || typeof e.message !== 'string') return undefined;
  return { code: typeof e.code === 'string' ? e.code : '', message: e.message };
}

const looksLikeHtml = (res: RawResponse): boolean => res.contentType.includes('text/html') || /^\s*<(!doctype|html)/i.test(res.text);

/** Shapes a non-2xx (or HTML) answer of the Web API into a PartnerError. */
export function errorFor(settings: HttpSettings, method: string, label: string, res: RawResponse): PartnerError {
  const host = hostOf(settings.serverUrl);
  if (res.status >= 300 && res.status < 400) {
    return new PartnerError('protocol', `not a Dataverse Web API answer from ${host}: ${method} ${label} redirected (${res.status}); check the server URL`, { status: res.status });
  }
  if (looksLikeHtml(res)) {
    return new PartnerError('protocol', `not a Dataverse Web API answer from ${host}: ${method} ${label} returned an HTML page (HTTP ${res.status})`, { status: res.status, cause: 'html' });
  }
  const dv = dataverseError(res.text);
  const kind = kindForStatus(res.status);
  const retry = kind === 'rate-limited' ? retryAfterMs(res.headers) : undefined;
  const what = dv ? `${dv.message}${dv.code ? ` (${dv.code})` : ''}` : `HTTP ${res.status}`;
  let prefix = `Provance ${method} ${label} failed (${res.status})`;
  if (kind === 'rate-limited') prefix = `Provance service protection limit hit on ${method} ${label}${retry !== undefined ? `; retry after ${Math.ceil(retry / 1000)} s` : ''}`;
  else if (kind === 'forbidden') prefix = `the Provance user may not ${method} ${label} (403; check its security roles)`;
  else if (kind === 'unavailable') prefix = `Provance is unavailable (${res.status}) on ${method} ${label}`;
  return new PartnerError(kind, `${prefix}: ${what}`, { status: res.status, retryAfterMs: retry, cause: dv?.code || undefined });
}

/** A 2xx JSON body (undefined for 204/empty); HTML or non-JSON → 'protocol'. */
export function successBody(settings: HttpSettings, method: string, label: string, res: RawResponse): unknown {
  if (res.status === 204 || res.text === '') return undefined;
  if (looksLikeHtml(res)) throw errorFor(settings, method, label, res);
  const body = parseJson(res.text);
  if (body === undefined) {
    throw new PartnerError('protocol', `not a Dataverse Web API answer from ${hostOf(settings.serverUrl)}: ${method} ${label} returned a non-JSON body`, { status: res.status });
  }
  return body;
}
