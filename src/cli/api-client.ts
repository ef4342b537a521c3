import fs from 'node:fs';
import path from 'node:path';

export interface ApiOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** The CLI talks to a running connector over its REST API, like any other client. */
export class ApiClient {
  readonly base: string;
  readonly token: string;
  /** Where the token came from, for the message of a 401. */
  readonly tokenSource: string;

  constructor(options: ApiOptions) {
    this.base = (options.url ?? process.env.ITSMC_URL ?? `http://127.0.0.1:${process.env.PORT || 8080}`).replace(/\/+$/, '');
    ({ token: this.token, source: this.tokenSource } = findToken(options.token));
  }

  /** What a 401 means for the CLI user: which token was sent and where else the CLI looks. */
  unauthorizedHint(): string {
    const looked = `the CLI takes the token from --token, else ITSMC_TOKEN, else ITSMC_ADMIN_TOKEN, else ${tokenFile()} (the data directory is ITSMC_DATA_DIR or ./data)`;
    return this.token ? `the token from ${this.tokenSource} was refused; ${looked}` : `no token was found: ${looked}`;
  }

  async call<T = any>(method: string, pathname: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.base + pathname, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err: any) {
      throw new CliError(`cannot reach the connector at ${this.base}: ${err.cause?.code ?? err.message} (is it running? set --url or ITSMC_URL)`);
    }
    const text = await response.text();
    const data = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const error = (data as any)?.error;
      const details = error?.details ? `\n${JSON.stringify(error.details, null, 2)}` : '';
      const hint = response.status === 401 ? `\n${this.unauthorizedHint()}` : '';
      throw new CliError(`${response.status} ${error?.code ?? ''}: ${error?.message ?? text}${details}${hint}`, response.status, error?.code, error?.details);
    }
    return data as T;
  }
}

export class CliError extends Error {
  constructor(
    message: string,
    /** HTTP status of the connector's answer, when the error is one. */
    readonly status?: number,
    readonly code?: string,
    /** The connector's `error.details` (for a 400: every problem with its path). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const tokenFile = () => path.join(path.resolve(process.env.ITSMC_DATA_DIR || './data'), 'admin.token');

function findToken(option?: string): { token: string; source: string } {
  if (option) return { token: option, source: '--token' };
  if (process.env.ITSMC_TOKEN) return { token: process.env.ITSMC_TOKEN, source: 'ITSMC_TOKEN' };
  if (process.env.ITSMC_ADMIN_TOKEN) return { token: process.env.ITSMC_ADMIN_TOKEN, source: 'ITSMC_ADMIN_TOKEN' };
  try {
    return { token: fs.readFileSync(tokenFile(), 'utf8').trim(), source: tokenFile() };
  } catch {
    return { token: '', source: '' };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Prints either JSON (for scripts) or a compact table for people. */
export function output(data: unknown, json: boolean, columns?: string[]): void {
  if (json || !columns) {
    console.log(JSON.stringify(data, null, 2));
    return;
  }
  const rows = (Array.isArray(data) ? data : [data]) as Record<string, unknown>[];
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  console.log(columns.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const row of cells) console.log(row.map((v, i) => v.padEnd(widths[i])).join('  '));
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
