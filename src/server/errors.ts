import { DomainError, InvalidError, type Problem as DomainProblem } from '../core/errors.ts';

/** The one error shape of the API: `{"error":{"code","message","details"}}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError(400, 'BadRequest', message, details);
export const notFound = (message: string) => new ApiError(404, 'NotFound', message);
export const conflict = (message: string, details?: unknown) => new ApiError(409, 'Conflict', message, details);
export const unauthorized = (message: string) => new ApiError(401, 'Unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'Forbidden', message);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const fastifyCodes: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PayloadTooLarge', message: 'request body is larger than the limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UnsupportedMediaType' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BadRequest', message: 'body is empty but Content-Type is application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'InvalidJson' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BadRequest' },
};

const domainStatus: Record<DomainError['kind'], { status: number; code: string }> = {
  'not-found': { status: 404, code: 'NotFound' },
  conflict: { status: 409, code: 'Conflict' },
  invalid: { status: 400, code: 'BadRequest' },
  forbidden: { status: 403, code: 'Forbidden' },
};

/** A problem's field path as the API shows it: `body/serverUrl`, `params/name`. */
function apiProblem({ in: where = 'body', ...p }: DomainProblem): Omit<DomainProblem, 'in'> {
  return { ...p, path: `${where}/${p.path}` };
}

/** A domain error as the API error: invalid input lists its problems with their `body/…` paths. */
export function fromDomainError(err: DomainError): ApiError {
  const { status, code } = domainStatus[err.kind];
  if (err instanceof InvalidError) {
    const details = err.problems.length ? err.problems.map(apiProblem) : err.details;
    return new ApiError(status, code, err.message, err.problems.length && err.details ? { ...err.details, problems: details } : details);
  }
  return new ApiError(status, code, err.message, (err as { details?: unknown }).details);
}

/** Maps anything thrown in a request to a status and the error body; never leaks a stack trace. */
export function toErrorResponse(err: any): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) err = fromDomainError(err);
  if (err instanceof ApiError) {
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message, details: err.details } } };
  }
  if (err?.validation) {
    const problems = validationProblems(err.validation as AjvError[], err.validationContext ?? 'body');
    return { status: 400, body: { error: { code: 'BadRequest', message: describe(problems[0]), details: problems } } };
  }
  const known = err?.code ? fastifyCodes[err.code] : undefined;
  if (known) return { status: known.status, body: { error: { code: known.code, message: known.message ?? cleanMessage(err.message) } } };
  if (err instanceof SyntaxError || err?.code?.startsWith?.('FST_ERR_CTP')) {
    return { status: 400, body: { error: { code: 'InvalidJson', message: cleanMessage(err.message) } } };
  }
  const status = Number(err?.statusCode);
  if (status >= 400 && status < 500) return { status, body: { error: { code: 'BadRequest', message: cleanMessage(err.message) } } };
  return { status: 500, body: { error: { code: 'InternalError', message: 'internal error; see the server log' } } };
}

interface AjvError {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { allowedValue?: unknown; allowedValues?: unknown[]; additionalProperty?: string };
}

interface Problem {
  path: string;
  message?: string;
  allowed?: unknown[];
  property?: string;
}

/**
 * Schema errors as problems, one per place: a union of constants (TypeBox's enum) fails once per constant plus
 * once for the union; those become one "must be one of: …" with the allowed values.
 */
function validationProblems(errors: AjvError[], context: string): Problem[] {
  const constants = new Map<string, unknown[]>();
  for (const v of errors)
    if (v.keyword === 'const') constants.set(v.instancePath ?? '', [...(constants.get(v.instancePath ?? '') ?? []), v.params?.allowedValue]);
  const problems: Problem[] = [];
  const done = new Set<string>();
  for (const v of errors) {
    const at = v.instancePath ?? '';
    const path = `${context}${at}`;
    const allowed = constants.get(at);
    if (allowed && (v.keyword === 'const' || v.keyword === 'anyOf')) {
      if (done.has(at)) continue;
      done.add(at);
      problems.push({ path, message: 'must be one of', allowed });
      continue;
    }
    problems.push({
      path,
      message: v.message,
      ...(v.params?.allowedValues ? { allowed: v.params.allowedValues } : {}),
      ...(v.params?.additionalProperty ? { property: v.params.additionalProperty } : {}),
    });
  }
  return problems;
}

/** `partnerType must be one of: …`, `syncDataDays must be <= 120`, `body must have required property 'x'`. */
function describe(p: Problem): string {
  const where = p.path.replace(/^body\//, '');
  if (p.property) return `${where}: unknown property '${p.property}'`;
  if (p.allowed) return `${where} ${p.message}: ${p.allowed.join(', ')}`;
  return `${where} ${p.message}`;
}

function cleanMessage(message: unknown): string {
  return String(message ?? 'bad request')
    .replace(/^FST_\w+:\s*/, '')
    .slice(0, 500);
}
