/**
 * ServiceNow on the shared partner HTTP (../http.ts): its error envelope, its `{"result": …}` answers and
 * the settings every ServiceNow call uses.
 */
import { PartnerError, type AddressGuard } from '../partner.ts';
import { authorizedCall, hostOf, httpSettings, parseSuccess, type AuthStrategy, type HttpSettings, type RawRequest, type RawResponse } from '../http.ts';

export { send, retryAfterMs, htmlError, redirectError, kindForStatus, errorFor, parseSuccess } from '../http.ts';
export type { HttpMethod, HttpSettings, RawRequest, RawResponse, AuthStrategy } from '../http.ts';

export const PRODUCT = 'ServiceNow';

export function settingsFrom(serverUrl: string, timeoutMs?: number, onResponse?: HttpSettings['onResponse'], addressGuard?: AddressGuard): HttpSettings {
  return httpSettings({ product: PRODUCT, serverUrl, timeoutMs, onResponse, addressGuard, errorText: envelopeText });
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

export interface ApiRequest {
  method: RawRequest['method'];
  path: string;
  query?: RawRequest['query'];
  json?: unknown;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  result: unknown;
}

/** Authenticated Table-API call (one token renewal on 401, see authorizedCall), answer unwrapped from `result`. */
export async function apiCall(settings: HttpSettings, auth: AuthStrategy, req: ApiRequest): Promise<ApiResponse> {
  const res = await authorizedCall(settings, auth, req);
  return { status: res.status, headers: res.headers, result: resultOf(settings, req.method, req.path, res) };
}
