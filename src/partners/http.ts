/**
 * The HTTP every partner client goes through: base URL, JSON and form bodies, a per-request timeout, the SSRF
 * guard on the address actually connected (a `lookup` hook, so DNS rebinding is caught), refused redirects,
 * HTML-instead-of-JSON detection, status → PartnerError kind, Retry-After, and the onResponse hook.
 * It never retries (except the one token renewal on 401 in `authorizedCall`, where the server did nothing)
 * and never puts credentials or tokens into errors. The product name only appears in messages.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { PartnerError, type AddressGuard, type PartnerErrorKind } from './partner.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HttpSettings {
  /** Product name for messages ("ServiceNow", "Cherwell" …). */
  product: string;
  /** Server root, e.g. https://dev12345.service-now.com (no trailing slash). */
  serverUrl: string;
  timeoutMs: number;
  onResponse?: (info: { method: string; path: string; status: number; ms: number }) => void;
  /** Refuses addresses the connection may not reach (private, loopback …); checked at connect time. */
  addressGuard?: AddressGuard;
  /** The product's error text from a parsed error body (its error envelope), if any. */
  errorText?: (body: unknown) => string | undefined;
}

export interface RawRequest {
  method: HttpMethod;
  /** Path below the server root, starting with '/'. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  json?: unknown;
  /** application/x-www-form-urlencoded body (token endpoints). */
  form?: Record<string, string>;
  /** Value of the Authorization header, if any. */
  authorization?: string;
  /** Further request headers (API keys, OData headers …). */
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Parses and checks a server URL: http(s), no credentials, no query or fragment, no trailing slash. */
export function normalizeBaseUrl(product: string, serverUrl: string): URL {
  let url: URL;
  try {
    url = new URL(serverUrl.trim());
  } catch {
    throw new PartnerError('invalid', `${product} URL "${serverUrl}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PartnerError('invalid', `${product} URL must use https (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new PartnerError('invalid', `${product} URL must not carry credentials; enter them in the credential fields`);
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

export function httpSettings(options: Omit<HttpSettings, 'timeoutMs'> & { timeoutMs?: number }): HttpSettings {
  return {
    ...options,
    serverUrl: normalizeBaseUrl(options.product, options.serverUrl).toString().replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

export function hostOf(settings: HttpSettings): string {
  try {
    return new URL(settings.serverUrl).host;
  } catch {
    return settings.serverUrl;
  }
}

/** A refusal of the SSRF guard: never retried, it needs the operator (allow-list) or a different URL. */
class AddressRefused extends Error {
  readonly code = 'EADDRREFUSED';
}

/** Node's lookup with every resolved address passed through the guard before the socket connects. */
function guardedLookup(guard: AddressGuard): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const refused = guard(hostname, a.address);
        if (refused) return callback(new AddressRefused(refused), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** Network-level failure (no HTTP answer) → PartnerError with a human message. */
function networkError(settings: HttpSettings, err: unknown, method: string, path: string): PartnerError {
  const host = hostOf(settings);
  if (err instanceof AddressRefused) return new PartnerError('invalid', `refused to connect to ${settings.product}: ${err.message}`, { cause: 'address' });
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new PartnerError('unavailable', `${settings.product} at ${host} did not answer ${method} ${path} within ${settings.timeoutMs} ms`, {
      cause: 'timeout',
    });
  }
  const code = e?.code ?? e?.cause?.code ?? '';
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host name not found (DNS)'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE'
          ? 'connection reset'
          : code.startsWith('ERR_TLS') || code.includes('CERT')
            ? `TLS error (${code})`
            : code || e?.cause?.message || e?.message || 'network error';
  return new PartnerError('unavailable', `cannot reach ${settings.product} at ${host}: ${reason}`, { cause: code || 'network' });
}

function encodeBody(req: RawRequest): { body?: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { Accept: 'application/json', ...(req.headers ?? {}) };
  let body: string | undefined;
  if (req.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  } else if (req.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(req.json);
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  if (req.authorization) headers.Authorization = req.authorization;
  return { body, headers };
}

function toHeaders(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    try {
      for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
    } catch {
      // A header value fetch would refuse: not something any caller reads.
    }
  }
  return headers;
}

/** One HTTP exchange over node:http(s), whole body read, within the timeout; redirects are not followed. */
function exchange(settings: HttpSettings, url: URL, method: string, body: string | undefined, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const options: https.RequestOptions = { method, headers };
    if (settings.addressGuard) options.lookup = guardedLookup(settings.addressGuard);
    const req = lib.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = toHeaders(res.headers);
        resolve({
          status: res.statusCode ?? 0,
          headers: h,
          contentType: (h.get('content-type') ?? '').toLowerCase(),
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), settings.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/** Sends one request. Throws 'unavailable' on network failure or timeout; never inspects the status. */
export async function send(settings: HttpSettings, req: RawRequest): Promise<RawResponse> {
  const url = new URL(settings.serverUrl + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const { body, headers } = encodeBody(req);
  const started = Date.now();
  try {
    // An address literal is connected without a lookup, so it is checked here.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    const refused = settings.addressGuard && net.isIP(literal) ? settings.addressGuard(literal, literal) : null;
    if (refused) throw new AddressRefused(refused);
    const res = await exchange(settings, url, req.method, body, headers);
    settings.onResponse?.({ method: req.method, path: req.path, status: res.status, ms: Date.now() - started });
    return res;
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

export function looksLikeHtml(res: RawResponse): boolean {
  return res.contentType.includes('text/html') || /^\s*<(!doctype|html)/i.test(res.text);
}

/** A 200 HTML page: hibernating instance, SSO/proxy page or not the product at all. */
export function htmlError(settings: HttpSettings, res: RawResponse): PartnerError {
  const host = hostOf(settings);
  if (/hibernat/i.test(res.text)) {
    return new PartnerError('unavailable', `the ${settings.product} instance at ${host} is hibernating; wake it up (developer portal) and it will be retried`, {
      status: res.status,
      cause: 'hibernating',
    });
  }
  if (/saml|sso|login\.microsoftonline|okta|sign in|log in/i.test(res.text)) {
    return new PartnerError('protocol', `not a ${settings.product} API answer from ${host}: got a login (SSO) page instead of JSON`, {
      status: res.status,
      cause: 'html',
    });
  }
  return new PartnerError('protocol', `not a ${settings.product} instance at ${host}: got an HTML page instead of JSON (HTTP ${res.status})`, {
    status: res.status,
    cause: 'html',
  });
}

/** A redirect: SSO front door, a moved server or a URL that is not the server root. Only origin and path are shown. */
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
    `not a ${settings.product} API answer from ${hostOf(settings)}: ${method} ${path} redirected (${res.status}) to ${where}; check the server URL (SSO front doors are not supported for API calls)`,
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

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Shapes a non-2xx answer (or an unusable 2xx) into a PartnerError. */
export function errorFor(settings: HttpSettings, method: string, path: string, res: RawResponse): PartnerError {
  if (res.status >= 200 && res.status < 300 && looksLikeHtml(res)) return htmlError(settings, res);
  if (res.status >= 300 && res.status < 400) return redirectError(settings, method, path, res);
  const envelope = settings.errorText?.(parseJson(res.text));
  const kind = kindForStatus(res.status);
  const details = { status: res.status, retryAfterMs: kind === 'rate-limited' ? retryAfterMs(res.headers) : undefined };
  const product = settings.product;
  if (!envelope && looksLikeHtml(res) && (res.status === 404 || res.status === 405)) {
    return new PartnerError(
      'protocol',
      `not a ${product} instance at ${hostOf(settings)}: ${method} ${path} answered ${res.status} with an HTML page`,
      details,
    );
  }
  const what = envelope ?? (res.text ? `HTTP ${res.status} (no ${product} error envelope)` : `HTTP ${res.status}`);
  let prefix = `${product} ${method} ${path} failed (${res.status})`;
  if (kind === 'rate-limited') {
    prefix =
      `${product} rate limit hit on ${method} ${path}` +
      (details.retryAfterMs !== undefined ? `; retry after ${Math.ceil(details.retryAfterMs / 1000)} s` : '');
  } else if (kind === 'forbidden') {
    prefix = `the integration user may not ${method} ${path} (403; check its roles/ACLs)`;
  } else if (kind === 'unavailable') {
    prefix = `${product} is unavailable (${res.status}) on ${method} ${path}`;
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
    throw new PartnerError(
      'protocol',
      `not a ${settings.product} answer from ${hostOf(settings)}: ${method} ${path} returned a non-JSON body (${res.contentType || 'no content type'})`,
      {
        status: res.status,
      },
    );
  }
  return body;
}

/** How authorized calls obtain and renew the Authorization header. */
export interface AuthStrategy {
  header(): Promise<string>;
  /** Called once on a 401: returns a fresh header to retry with, or null when there is nothing to renew. */
  renew(staleHeader: string): Promise<string | null>;
  /** Message for a 401 that survived renewal. */
  rejectedMessage(): string;
}

/**
 * Authenticated call. On 401 it asks the auth strategy once for a renewed token and repeats that one request
 * (the server did nothing on a 401, so this is not a replayed write); every other failure is thrown.
 * Returns the 2xx answer unparsed.
 */
export async function authorizedCall(settings: HttpSettings, auth: AuthStrategy, req: Omit<RawRequest, 'authorization' | 'form'>): Promise<RawResponse> {
  let authorization = await auth.header();
  let res = await send(settings, { ...req, authorization });
  if (res.status === 401) {
    const renewed = await auth.renew(authorization);
    if (renewed !== null) {
      authorization = renewed;
      res = await send(settings, { ...req, authorization });
    }
    if (res.status === 401) {
      const envelope = settings.errorText?.(parseJson(res.text));
      throw new PartnerError('auth', `${auth.rejectedMessage()}${envelope ? ` (${settings.product}: ${envelope})` : ''}`, { status: 401 });
    }
  }
  if (res.status < 200 || res.status >= 300) throw errorFor(settings, req.method, req.path, res);
  return res;
}
