/**
 * Run-time switches of the Cherwell sandbox. Each stands for a behaviour partner-apis.md marks as
 * unverified or installation-dependent (§6.5 item 6), so a client can be tested against the variants.
 * Changeable through `PUT /CherwellAPI/api/x_sandbox/rules` (merge).
 */
import { isTimeZone } from '../../partners/cherwell/dates.ts';

export interface CherwellRules {
  /** IANA zone of the server: dates in fields and filters are local times of this zone. */
  timeZone: string;
  /** Most concurrent logins (licences); null = unlimited. A login beyond the cap is refused. */
  licenceCap: number | null;
  /** HTTP status of a refused token request (400 as OWIN's OAuth server answers; unverified for CSM). */
  tokenErrorStatus: number;
  /** A refresh grant issues a new refresh token and revokes the one used. */
  rotateRefreshToken: boolean;
  /** HTTP status of a read/update/delete whose record does not exist (body always has hasError:true). */
  recordNotFoundStatus: number;
  /** HTTP status of a save refused by validation (body always has hasError:true + fieldValidationErrors). */
  validationErrorStatus: number;
  /** Rows returned when a search gives no pageSize. */
  defaultPageSize: number;
  /** Largest pageSize honoured; larger ones are clamped. */
  maxPageSize: number;
}

export const DEFAULT_RULES: CherwellRules = {
  timeZone: 'America/New_York',
  licenceCap: null,
  tokenErrorStatus: 400,
  rotateRefreshToken: true,
  recordNotFoundStatus: 200,
  validationErrorStatus: 200,
  defaultPageSize: 1000,
  maxPageSize: 5000,
};

/** Merges known keys of `patch` into a copy of `rules`; returns it with the names of rejected keys. */
export function mergeRules(rules: CherwellRules, patch: unknown): { rules: CherwellRules; rejected: string[] } {
  const next: CherwellRules = { ...rules };
  const rejected: string[] = [];
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return { rules, rejected: ['(body must be a JSON object)'] };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (!(k in next)) rejected.push(k);
    else if (k === 'licenceCap' && (v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0))) next.licenceCap = v as number | null;
    else if (k === 'timeZone' && typeof v === 'string' && isTimeZone(v)) next.timeZone = v;
    else if (k !== 'licenceCap' && k !== 'timeZone' && typeof v === typeof (next as unknown as Record<string, unknown>)[k]) {
      (next as unknown as Record<string, unknown>)[k] = v;
    } else rejected.push(k);
  }
  return { rules: rejected.length ? rules : next, rejected };
}
