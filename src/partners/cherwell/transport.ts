/**
 * The HTTP helper every Cherwell call goes through: the `/CherwellAPI` base URL, JSON and form bodies,
 * per-request timeout, the onResponse hook, and error shaping — `{"Message":…}` (ASP.NET), `error` /
 * `error_description` (token endpoint), `hasError` on any 2xx, HTML pages. Never retries; never puts
 * credentials or tokens into errors.
 */
import { PartnerError, type PartnerErrorKind } from '../partner.ts';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface HttpSettings {
  /** Ends with /CherwellAPI, no trailing slash. */
  baseUrl: string;
  timeoutMs: number;
  onResponse?: (info: { method: string; path: string; status: number; ms: number }) => void;
}

export interface RawRequest {
  method: HttpMethod;
  /** Below /CherwellAPI, starting with '/'. */
  path: string;
  query?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  authorization?: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** `https://host` or `https://host/CherwellAPI` (any case, trailing slash tolerated) → the API base. */
export function cherwellBaseUrl(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl.trim());
  } catch {
    throw new PartnerError('invalid', `Cherwell server URL "${serverUrl}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PartnerError('invalid', `Cherwell server URL must use https (got ${url.protocol})`);
  if (url.username || url.password) throw new PartnerError('invalid', 'Cherwell server URL must not carry credentials; enter them in the credential fields');
  const path = url.pathname.replace(/\/+$/, '');
  const base = /\/cherwellapi$/i.test(path) ? path : `${path}/CherwellAPI`;
  return `${url.origin}${base}`;
}

export function settingsFrom(serverUrl: string, timeoutMs?: number, onResponse?: HttpSettings['onResponse']): HttpSettings {
  return { baseUrl: cherwellBaseUrl(serverUrl), timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS, onResponse };
}

export function hostOf(settings: HttpSettings): string {
  return new URL(settings.baseUrl).host;
}

function networkError(settings: HttpSettings, err: unknown, method: string, path: string): PartnerError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new PartnerError('unavailable', `Cherwell at ${hostOf(settings)} did not answer ${method} ${path} within ${settings.timeoutMs} ms`, { cause: 'timeout' });
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
  return new PartnerError('unavailable', `cannot reach Cherwell at ${hostOf(settings)}: ${reason}`, { cause: code || 'network' });
}

export async function send(settings: HttpSettings, req: RawRequest): Promise<RawResponse> {
  const url = new URL(settings.baseUrl + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
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
  try {
    const res = await fetch(url, { method: req.method, headers, body, signal: AbortSignal.timeout(settings.timeoutMs), redirect: 'manual' });
    const text = await res.text();
    settings.onResponse?.({ method: req.method, path: req.path, status: res.status, ms: Date.now() - started });
    return { status: res.status, headers: res.headers, contentType: (res.headers.get('content-type') ?? '').toLowerCase(), text };
  } catch (err) {
    throw networkError(settings, err, req.method, req.path);
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function looksLikeHtml(res: RawResponse): boolean {
  return res.contentType.includes('text/html') || /^\s*<(!doctype|html)/i.test(res.text);
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ra = headers.get('retry-after')?.trim();
  if (!ra) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function kindForStatus(status: number): PartnerErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500 || status === 408) return 'unavailable';
  return 'invalid';
}

/** The most telling text of a Cherwell error body. */
function errorText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const parts = [b.errorCode, b.errorMessage].filter((p): p is string => typeof p === 'string' && p !== '');
  if (parts.length) return parts.join(': ');
  if (typeof b.Message === 'string') return b.Message;
  if (typeof b.error === 'string') return typeof b.error_description === 'string' ? `${b.error}: ${b.error_description}` : b.error;
  return undefined;
}

/** An HTML page where JSON was expected: maintenance page, SSO front door, or not a Cherwell server. */
export function htmlError(settings: HttpSettings, res: RawResponse): PartnerError {
  const host = hostOf(settings);
  if (/maintenance|service unavailable/i.test(res.text)) {
    return new PartnerError('unavailable', `Cherwell at ${host} is down for maintenance (HTML page, HTTP ${res.status})`, { status: res.status, cause: 'maintenance' });
  }
  return new PartnerError('protocol', `not a Cherwell REST API at ${host}: got an HTML page instead of JSON (HTTP ${res.status}); the server URL should end in /CherwellAPI`, {
    status: res.status,
    cause: 'html',
  });
}

export function errorFor(settings: HttpSettings, method: string, path: string, res: RawResponse): PartnerError {
  if (looksLikeHtml(res) && (res.status < 300 || res.status === 404 || res.status === 503)) return htmlError(settings, res);
  if (res.status >= 300 && res.status < 400) {
    return new PartnerError('protocol', `not a Cherwell REST API answer from ${hostOf(settings)}: ${method} ${path} redirected (${res.status}); check the server URL`, { status: res.status });
  }
  const kind = kindForStatus(res.status);
  const what = errorText(parseJson(res.text)) ?? `HTTP ${res.status}`;
  const retry = kind === 'rate-limited' ? retryAfterMs(res.headers) : undefined;
  return new PartnerError(kind, `Cherwell ${method} ${path} failed (${res.status}): ${what}`, { status: res.status, retryAfterMs: retry });
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
