/**
 * Defensive reading of untrusted JSON. Keys are matched case-insensitively (vendors disagree on `schemaId` vs
 * `SchemaId`, `alertTargetIDs` vs `alertTargetIds`); `__proto__`, `constructor` and `prototype` are never read
 * from input nor written onto any object we build; nothing here recurses into input, so deep nesting is harmless.
 */
import { ShapeMismatch } from './errors.ts';

/** Keys that are skipped everywhere (never read from input, never assigned onto an object). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isSafeKey(key: string): boolean {
  return !FORBIDDEN_KEYS.has(key);
}

/** A plain JSON object, viewed through lower-cased keys. */
export type Rec = ReadonlyMap<string, unknown>;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** View an object through lower-cased keys (first spelling wins when two differ only by case). */
export function asRec(v: unknown): Rec | undefined {
  if (!isPlainObject(v)) return undefined;
  const m = new Map<string, unknown>();
  for (const k of Object.keys(v)) {
    if (!isSafeKey(k)) continue;
    const lk = k.toLowerCase();
    if (!isSafeKey(lk) || m.has(lk)) continue;
    m.set(lk, v[k]);
  }
  return m;
}

/** First of `names` (case-insensitive) that is present and not undefined/null. */
export function pick(r: Rec | undefined, ...names: string[]): unknown {
  if (!r) return undefined;
  for (const n of names) {
    const v = r.get(n.toLowerCase());
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** Own enumerable entries with their original keys, dangerous keys skipped. */
export function safeEntries(v: unknown): Array<[string, unknown]> {
  if (!isPlainObject(v)) return [];
  const out: Array<[string, unknown]> = [];
  for (const k of Object.keys(v)) if (isSafeKey(k)) out.push([k, v[k]]);
  return out;
}

/** Longest string we keep from one input value; longer ones are cut (rendering cuts further). */
export const MAX_VALUE_LENGTH = 32_768;

function cap(s: string): string {
  return s.length > MAX_VALUE_LENGTH ? s.slice(0, MAX_VALUE_LENGTH) : s;
}

/** Strings as-is; finite numbers and booleans as their text; anything else undefined. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return cap(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

/** A string with visible content (trimmed), else undefined. */
export function text(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const t = s.trim();
  return t === '' ? undefined : t;
}

/** Numbers, or numeric strings (`"25"`, `" 7.5 "`); else undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '' || t.length > 64 || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function arr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** Strings of an array (numbers stringified, blanks and non-scalars dropped). A lone string counts as one. */
export function strList(v: unknown): string[] {
  if (typeof v === 'string') return v.trim() ? [cap(v.trim())] : [];
  const a = arr(v);
  if (!a) return [];
  const out: string[] = [];
  for (const x of a) {
    const t = text(x);
    if (t !== undefined) out.push(t);
  }
  return out;
}

/** Flat string map from an object (labels, custom properties). Non-scalar values are JSON-encoded, capped. */
export function stringMap(v: unknown, into: Record<string, string> = {}): Record<string, string> {
  for (const [k, x] of safeEntries(v)) {
    if (Object.hasOwn(into, k)) continue;
    const s = str(x) ?? (x === null || x === undefined ? undefined : jsonText(x));
    if (s !== undefined) into[k] = s;
  }
  return into;
}

/** JSON text of a value, or undefined when it cannot be encoded (cycles, depth). Capped. */
export function jsonText(v: unknown): string | undefined {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? undefined : cap(s);
  } catch {
    return undefined;
  }
}

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') {
    const shown = v.length > 40 ? `${v.slice(0, 40)}…` : v;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

/** Score of one distinctive marker of a shape (schemaId, version); a mismatch past it is a bad field, not another shape. */
export const STRONG_MATCH = 10;

/**
 * Tracks how far a shape parser got. Every passed structural check adds to `score`; a failed one throws
 * ShapeMismatch carrying the score, so the detector can report the closest shape.
 */
export class Probe {
  score = 0;

  fail(path: string, expected: string, found: unknown): never {
    throw new ShapeMismatch(path, expected, describe(found), this.score);
  }

  /** Require a plain object. */
  obj(v: unknown, path: string, expected = 'an object'): Rec {
    const r = asRec(v);
    if (!r) this.fail(path, expected, v);
    this.score++;
    return r;
  }

  /** Require a non-empty string (numbers accepted as text). */
  str(v: unknown, path: string, expected = 'a non-empty string'): string {
    const s = text(v);
    if (s === undefined) this.fail(path, expected, v);
    this.score++;
    return s;
  }

  arr(v: unknown, path: string, expected = 'an array'): unknown[] {
    const a = arr(v);
    if (!a) this.fail(path, expected, v);
    this.score++;
    return a;
  }

  /** Require a string equal (case-insensitively) to one of `values`; returns the canonical spelling. */
  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    const s = text(v)?.toLowerCase();
    const hit = values.find((x) => x.toLowerCase() === s);
    if (hit === undefined) this.fail(path, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
    this.score++;
    return hit;
  }

  pass(): void {
    this.score++;
  }

  /** A distinctive marker of the shape matched (schemaId, version): weighs more than a structural check. */
  strong(): void {
    this.score += STRONG_MATCH;
  }
}
