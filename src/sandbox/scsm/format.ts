/**
 * Wire shapes of the Service Manager web app (partner-apis.md §3.1): the shared `Response` base, `Field`,
 * the work item (`EnterpriseManagement`), ASP.NET Web API error bodies, and Json.NET date/time text.
 */

/** Json.NET's ISO form of a UTC DateTime: fraction digits only when non-zero (`FFFFFFF`), `Z` suffix. */
export function dotNetDate(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-06-15T12:00:00.000Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;

/** Reads a date the way the web app's SDK calls take them: ISO 8601 (no offset = UTC) or US `M/d/yyyy h:mm:ss tt`. */
export function parseDotNetDate(text: string): number | null {
  const t = text.trim();
  const us = US.exec(t);
  if (us) {
    let hour = Number(us[4] ?? 0);
    const ampm = us[7]?.toUpperCase();
    if (ampm === 'PM' && hour < 12) hour += 12;
    if (ampm === 'AM' && hour === 12) hour = 0;
    const ms = Date.UTC(Number(us[3]), Number(us[1]) - 1, Number(us[2]), hour, Number(us[5] ?? 0), Number(us[6] ?? 0));
    return Number.isNaN(ms) ? null : ms;
  }
  const ms = Date.parse(ISO_LOCAL.test(t) ? `${t.length === 10 ? `${t}T00:00:00` : t}Z` : t);
  return Number.isNaN(ms) || !/^\d{4}-/.test(t) ? null : ms;
}

export interface Field {
  fieldId: string;
  name: string;
  value: unknown;
  valueDisplayName: unknown;
  dirty: boolean;
}

export interface WorkItemJson {
  bmeId: string;
  displayName: string;
  fields: Field[];
}

/** The members every web-app response carries. */
export function base(startedMs: number, errorMessages: string[] = []): { errorMessages: string[]; reqProcessingTime: number; debugLogs: string[] } {
  return { errorMessages, reqProcessingTime: Math.max(0, Date.now() - startedMs), debugLogs: [] };
}

/** ASP.NET Web API's body for an unhandled exception. */
export function exceptionBody(exceptionMessage: string, exceptionType: string): Record<string, unknown> {
  return { Message: 'An error has occurred.', ExceptionMessage: exceptionMessage, ExceptionType: exceptionType, StackTrace: null };
}

/** ASP.NET Web API's body for a model-validation failure (ValidateModelAttribute). */
export function modelStateBody(modelState: Record<string, string[]>): Record<string, unknown> {
  return { Message: 'The request is invalid.', ModelState: modelState };
}

/**
 * An error the web app answers itself. `kind` picks the body: `domain` = the `Response` base with
 * `errorMessages`; `model` = ModelState; `exception` = the unhandled-exception body; `auth` = `{"Message"}`.
 */
export class WebAppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly kind: 'domain' | 'model' | 'exception' | 'auth' = 'domain',
    readonly extra: { modelState?: Record<string, string[]>; exceptionType?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  body(startedMs: number): Record<string, unknown> {
    switch (this.kind) {
      case 'model':
        return modelStateBody(this.extra.modelState ?? {});
      case 'exception':
        return exceptionBody(this.message, this.extra.exceptionType ?? 'System.Exception');
      case 'auth':
        return { Message: this.message };
      default:
        return base(startedMs, [this.message]);
    }
  }
}

export function domainError(message: string, status = 400): WebAppError {
  return new WebAppError(status, message, 'domain');
}

/** A 400 naming the missing or malformed members, as `[Required]` model validation reports them. */
export function modelError(param: string, problems: Record<string, string>): WebAppError {
  const modelState: Record<string, string[]> = {};
  for (const [member, text] of Object.entries(problems)) modelState[`${param}.${member}`] = [text];
  return new WebAppError(400, 'The request is invalid.', 'model', { modelState });
}
