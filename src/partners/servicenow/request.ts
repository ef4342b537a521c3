/**
 * The one HTTP helper every ServiceNow call goes through: base URL, auth header, JSON, per-request timeout,
 * error shaping (ServiceNow envelope → PartnerError), HTML-200 detection and the onResponse hook.
 * It never retries and never puts credentials or tokens into errors.
 */
import { PartnerError, type PartnerErrorKind } from '../partner.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HttpSettings {
  /** Instance URL, e.g. https://dev12345.service-now.com (trailing slash tolerated). */
  serverUrl: string;
  timeoutMs: number;
  onResponse?: (info: { method: string; path: string; status: number; ms: number }) => void;
}

export interface RawRequest {
  method: HttpMethod;
  /** Path below the instance root, starting with '/'. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  json?: unknown;
  /** application/x-www-form-urlencoded body (token endpoint). */
  form?: Record<string, string>;
  /** Value of the Authorization header, if any. */
  authorization?: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function normalizeBaseUrl(serverUrl: string): URL {
  let url: URL;
  try {
    url = new URL(serverUrl.trim());
  } catch {
    throw new PartnerError('invalid', `ServiceNow URL "${serverUrl}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PartnerError('invalid', `ServiceNow URL must use https (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new PartnerError('invalid', 'ServiceNow URL must not carry credentials; enter them in the credential fields');
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

export function settingsFrom(serverUrl: string, timeoutMs?: number, onResponse?: HttpSettings['onResponse']): HttpSettings {
  return { serverUrl: normalizeBaseUrl(serverUrl).toString().replace(/\/+$/, ''), timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS, onResponse };
}

function hostOf(settings: HttpSettings): string {
  try {
    return new URL(settings.serverUrl).host;
  } catch {
    return settings.serverUrl;
  }
}

/** Network-level failure (no HTTP answer) → PartnerError 'unavailable' with a human message. */
function networkError(settings: HttpSettings, err: unknown, method: string, path: string): PartnerError {
  const host = hostOf(settings);
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new PartnerError('unavailable', `ServiceNow at ${host} did not answer ${method} ${path} within ${settings.timeoutMs} ms`, {
      cause: 'timeout',
    });
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
            : (code || e?.cause?.message || e?.message || 'network error');
  return new PartnerError('unavailable', `cannot reach ServiceNow at ${host}: ${reason}`, { cause: code || 'network' });
}

/** Sends one request. Throws 'unavailable' on network failure or timeout; never inspects the status. */
export async function send(settings: HttpSettings, req: RawRequest): Promise<RawResponse> {
  const url = new URL(settings.serverUrl + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (req.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  } else if (req.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(req.json);
  }
  if (req.authorization) headers.Authorization = req.authorization;
  const started = Date.now();
  const signal = AbortSignal.timeout(settings.timeoutMs);
  try {
    const res = await fetch(url, { method: req.method, headers, body, signal, redirect: 'manual' });
    const text = await res.text();
    settings.onResponse?.({ method: req.method, path: req.path, status: res.status, ms: Date.now() - started });
    return { status: res.status, headers: res.headers, contentType: (res.headers.get('content-type') ?? '').toLowerCase(), text };
  } catch (err) {
    throw networkError(settings, err, req.method, req.path);
  }
}

/** Milliseconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (epoch seconds). */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ra = headers.get('retry-after');
  if (ra !== null && ra.trim() !== '') {
    const secs = Number(ra.trim());
    if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (reset !== null && /^\d+(\.\d+)?$/.test(reset.trim())) {
    let epochMs = Number(reset.trim());
    if (epochMs < 1e12) epochMs *= 1000; // seconds (documented) vs milliseconds (defensive)
    return Math.max(0, Math.round(epochMs - now));
  }
  return undefined;
}

function looksLikeHtml(res: RawResponse): boolean {
  return res.contentType.includes('text/html') || /^\s*<(!doctype|html)/i.test(res.text);
}

/** A 200 HTML page: hibernating developer instance, SSO/proxy page or not a ServiceNow instance at all. */
export function htmlError(settings: HttpSettings, res: RawResponse): PartnerError {
  const host = hostOf(settings);
  if (/hibernat/i.test(res.text)) {
    return new PartnerError(
      'unavailable',
      `the ServiceNow instance at ${host} is hibernating; wake it up (developer portal) and it will be retried`,
      { status: res.status, cause: 'hibernating' },
    );
  }
  if (/saml|sso|login\.microsoftonline|okta|sign in|log in/i.test(res.text)) {
    return new PartnerError('protocol', `not a ServiceNow API answer from ${host}: got a login (SSO) page instead of JSON`, {
      status: res.status,
      cause: 'html',
    });
  }
  return new PartnerError('protocol', `not a ServiceNow instance at ${host}: got an HTML page instead of JSON (HTTP ${res.status})`, {
    status: res.status,
    cause: 'html',
  });
}

/** A redirect: SSO front door, a moved instance or a URL that is not the instance root. Only origin and path are shown. */
export function redirectError(settings: HttpSettings, method: string, path: string, res: RawResponse): PartnerError {
  let where = 'elsewhere';
  const location = res.headers.get('location');
  if (location) {
    try {
      const u = new URL(location, settings.serverUrl);
      where = `${u.origin}${u.pathname}`;
    } catch {
      where = 'an unparsable location';
    }
  }
  return new PartnerError(
    'protocol',
    `not a ServiceNow API answer from ${hostOf(settings)}: ${method} ${path} redirected (${res.status}) to ${where}; check the instance URL (SSO front doors are not supported for API calls)`,
    { status: res.status },
  );
}

export function kindForStatus(status: number): PartnerErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'unavailable';
  if (status === 408) return 'unavailable';
  return 'invalid';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ServiceNow error envelope `{"error":{"message","detail"},"status":"failure"}` → "message: detail". */
export function envelopeText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const err = (body as { error?: unknown }).error;
  if (err && typeof err === 'object') {
    const { message, detail } = err as { message?: unknown; detail?: unknown };
    const parts = [message, detail].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    if (parts.length) return parts.join(': ');
  }
  if (typeof err === 'string') {
    const desc = (body as { error_description?: unknown }).error_description;
    return typeof desc === 'string' ? `${err}: ${desc}` : err;
  }
  return undefined;
}

/** Shapes a non-2xx answer (or an unusable 2xx) into a PartnerError. */
export function errorFor(settings: HttpSettings, method: string, path: string, res: RawResponse): PartnerError {
  if (res.status >= 200 && res.status < 300 && looksLikeHtml(res)) return htmlError(settings, res);
  if (res.status >= 300 && res.status < 400) return redirectError(settings, method, path, res);
  const body = parseJson(res.text);
  const envelope = envelopeText(body);
  const kind = kindForStatus(res.status);
  const details = { status: res.status, retryAfterMs: kind === 'rate-limited' ? retryAfterMs(res.headers) : undefined };
  if (!envelope && looksLikeHtml(res) && (res.status === 404 || res.status === 405)) {
    return new PartnerError('protocol', `not a ServiceNow instance at ${hostOf(settings)}: ${method} ${path} answered ${res.status} with an HTML page`, details);
  }
  const what = envelope ?? (res.text ? `HTTP ${res.status} (no ServiceNow error envelope)` : `HTTP ${res.status}`);
  let prefix = `ServiceNow ${method} ${path} failed (${res.status})`;
  if (kind === 'rate-limited') {
    prefix = `ServiceNow rate limit hit on ${method} ${path}` + (details.retryAfterMs !== undefined ? `; retry after ${Math.ceil(details.retryAfterMs / 1000)} s` : '');
  } else if (kind === 'forbidden') {
    prefix = `the integration user may not ${method} ${path} (403; check its roles/ACLs)`;
  } else if (kind === 'unavailable') {
    prefix = `ServiceNow is unavailable (${res.status}) on ${method} ${path}`;
  }
  return new PartnerError(kind, `${prefix}: ${what}`, details);
}

/**
 * Parses a successful JSON answer. 2xx with HTML → hibernation/protocol error; 2xx with non-JSON → 'protocol'.
 * 204 → undefined.
 */
export function parseSuccess(settings: HttpSettings, method: string, path: string, res: RawResponse): unknown {
  if (res.status === 204 || (res.text === '' && res.status >= 200 && res.status < 300 && method === 'DELETE')) return undefined;
  if (looksLikeHtml(res)) throw htmlError(settings, res);
  const body = parseJson(res.text);
  if (body === undefined) {
    throw new PartnerError('protocol', `not a ServiceNow answer from ${hostOf(settings)}: ${method} ${path} returned a non-JSON body (${res.contentType || 'no content type'})`, {
      status: res.status,
    });
  }
  return body;
}

/** Table-API style answer: `{"result": …}`; anything else is a protocol error. */
export function resultOf(settings: HttpSettings, method: string, path: string, res: RawResponse): unknown {
  const body = parseSuccess(settings, method, path, res);
  if (body === undefined) return undefined;
  if (!body || typeof body !== 'object' || !('result' in body)) {
    throw new PartnerError('protocol', `not a ServiceNow answer from ${hostOf(settings)}: ${method} ${path} has no "result" member`, {
      status: res.status,
    });
  }
  return (body as { result: unknown }).result;
}

/** How the request helper obtains and renews the Authorization header. */
export interface AuthStrategy {
  header(): Promise<string>;
  /** Called once on a 401: returns a fresh header to retry with, or null when there is nothing to renew. */
  renew(staleHeader: string): Promise<string | null>;
  /** Message for a 401 that survived renewal. */
  rejectedMessage(): string;
}

export interface ApiRequest {
  method: HttpMethod;
  path: string;
  query?: RawRequest['query'];
  json?: unknown;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  result: unknown;
}

/**
 * Authenticated JSON call. On 401 it asks the auth strategy once for a renewed token and repeats that one
 * request (the server did nothing on a 401, so this is not a replayed write); every other failure is thrown.
 */
export async function apiCall(settings: HttpSettings, auth: AuthStrategy, req: ApiRequest): Promise<ApiResponse> {
  let authorization = await auth.header();
  let res = await send(settings, { ...req, authorization });
  if (res.status === 401) {
    const renewed = await auth.renew(authorization);
    if (renewed !== null) {
      authorization = renewed;
      res = await send(settings, { ...req, authorization });
    }
    if (res.status === 401) {
      const envelope = envelopeText(parseJson(res.text));
      throw new PartnerError('auth', `${auth.rejectedMessage()}${envelope ? ` (ServiceNow: ${envelope})` : ''}`, { status: 401 });
    }
  }
  if (res.status < 200 || res.status >= 300) throw errorFor(settings, req.method, req.path, res);
  return { status: res.status, headers: res.headers, result: resultOf(settings, req.method, req.path, res) };
}
