/** The connector's API from the browser: bearer token from session storage, JSON in and out, errors as ApiError. */
const TOKEN_KEY = 'itsmc.token';
const WS_KEY = 'itsmc.workspace';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  setToken: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  workspace: (): string | null => sessionStorage.getItem(WS_KEY),
  setWorkspace: (ws: string) => sessionStorage.setItem(WS_KEY, ws),
  clear: () => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WS_KEY);
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly body?: any,
  ) {
    super(message);
  }
}

export async function api<T = any>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? session.token();
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json?.error;
    const inner = e?.innererror;
    throw new ApiError(res.status, e?.code ?? String(res.status), e?.message ?? (text.slice(0, 200) || res.statusText), e?.details ?? inner, json);
  }
  return json as T;
}

export const wsPath = (ws: string, rest = '') => `/api/v1/workspaces/${encodeURIComponent(ws)}${rest}`;

export interface LogsColumn {
  name: string;
  type: string;
}
export interface LogsTable {
  name: string;
  columns: LogsColumn[];
  rows: unknown[][];
}
export interface LogsResult {
  tables: LogsTable[];
  render?: { visualization: string; properties?: Record<string, string> };
  error?: { message: string; details?: { innererror?: { message: string } }[] };
}

export function runQuery(ws: string, query: string, timespan?: string): Promise<LogsResult> {
  return api<LogsResult>(`/v1/workspaces/${encodeURIComponent(ws)}/query`, { method: 'POST', body: { query, ...(timespan ? { timespan } : {}) } });
}

/** A Logs query error's position, when the engine gave one (1-based line/column or a 0-based offset). */
export interface QueryDiagnostic {
  message: string;
  line?: number;
  column?: number;
  start?: number;
  length?: number;
}

/** A string literal for KQL (double-quoted, backslash and quote escaped). */
export const kqlString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
