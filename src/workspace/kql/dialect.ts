/**
 * Everything that differs between SQLite and PostgreSQL SQL, behind one interface. The compiler
 * builds SQL from these fragments only; it never branches on the dialect itself.
 *
 * Conventions: datetimes and timespans are BIGINT milliseconds, bools are 0/1 (SQLite) or boolean
 * (PostgreSQL), dynamic values are JSON text. Arguments are SQL fragments (already parenthesised
 * where needed); `p(value, type)` creates a bound parameter and returns its placeholder.
 */
import type { KType } from './ast.ts';
import { postgresRegex, re2 } from './regex.ts';

/** The database a query is compiled for (declared by the store). */
export type { Dialect as DialectName } from '../../store/dialect.ts';
import type { Dialect as DialectName } from '../../store/dialect.ts';

/** Creates a bound parameter; returns the placeholder fragment. */
export type ParamFn = (value: unknown, type: KType) => string;

/** Milliseconds between 0001-01-01 and 1970-01-01: Kusto aligns bins to 0001-01-01. */
export const EPOCH_OFFSET_MS = 62135596800000;
export const DAY_MS = 86400000;
export const WEEK_MS = 7 * DAY_MS;

export interface Dialect {
  readonly name: DialectName;
  /** For messages. */
  readonly title: string;
  /** Placeholders are numbered ($1): a value used twice binds once. */
  readonly numberedParams: boolean;
  /** With one min()/max() in a GROUP BY, other bare columns come from that row (SQLite documents it). */
  readonly bareColumnAggregates: boolean;
  /** Regex captures follow RE2's leftmost-first rules (needed by parse kind=regex). */
  readonly re2Captures: boolean;
  /** Appended to a subquery so that it is not flattened into (its expressions not inlined in) the outer query. */
  readonly noInline: string;
  /** Placeholder for parameter number `index` (1-based) of the given type. */
  placeholder(index: number, type: KType): string;
  /** Convert a JS value into what the driver binds for the given type. */
  bindValue(value: unknown, type: KType): unknown;
  typedNull(type: KType): string;
  /** Null-safe equality (for joining on keys that may be null). */
  nullSafeEq(a: string, b: string): string;
  /** Make a string expression compare/sort by code point (PostgreSQL collations differ). */
  binaryCollate(x: string): string;
  lower(x: string): string;
  upper(x: string): string;
  strlen(x: string): string;
  greatest(a: string, b: string): string;
  /** 1-based substring. */
  substr(s: string, start: string, len?: string): string;
  castText(x: string): string;
  castReal(x: string): string;
  /** Integer from a numeric value, truncating toward zero. */
  truncToLong(x: string): string;
  realToText(x: string): string;
  /** string → long, null when not an integer literal. */
  stringToLong(x: string): string;
  /** string → real, null when not a number. */
  stringToReal(x: string): string;
  /** string → epoch ms, null when not a datetime. */
  stringToDatetime(x: string): string;
  /** datetime (ms) → `YYYY-MM-DDTHH:MM:SS[.fff]Z`. */
  isoDatetime(x: string): string;
  /** Calendar field of a datetime (ms): integer expression. */
  datePart(part: 'year' | 'month' | 'day', x: string): string;
  /** Zero-padded decimal text of a non-negative integer expression. */
  pad(x: string, width: number): string;
  floor(x: string): string;
  round(x: string, digits: number, integral: boolean, p: ParamFn): string;
  /** Regex match with a constant RE2 pattern (checked by `regexProblem`). */
  regexMatch(x: string, pattern: string, p: ParamFn): string;
  /** `has` term match with a constant needle; with `affix`, hasprefix / hassuffix (the needle starts or ends a term). */
  has(x: string, needle: string, caseSensitive: boolean, p: ParamFn, affix?: 'prefix' | 'suffix'): string;
  /** Kusto `hash(x [, mod])` of a string or datetime (xxHash64; see xxhash64.ts). */
  hash(x: string, datetime: boolean, mod: string | null): string;
  /** Case-insensitive LIKE with a constant pattern (already escaped with backslash). */
  ilike(x: string, pattern: string): string;
  /** Case-sensitive substring test (non-constant operands). */
  containsCs(x: string, needle: string): string;
  startsWithCs(x: string, prefix: string): string;
  endsWithCs(x: string, suffix: string): string;
  /** Remove leading/trailing matches of a constant regex. */
  trimRegex(x: string, regex: string, p: ParamFn): string;
  /** split(s, delimiter) → JSON array text. */
  split(s: string, delim: string): string;
  /** JSON element `key` of JSON text `x`, as JSON text (null when absent). */
  jsonMember(x: string, key: string | number, p: ParamFn): string;
  /** tostring() of JSON text: strings unquoted, other values as JSON. */
  jsonToText(x: string): string;
  /** JSON array text with one element (JSON text) — for split(s, d, i). */
  jsonArray1(elemJson: string): string;
  /** A value as a JSON element for make_set/make_list (given its SQL value and JSON-ready form). */
  jsonElement(x: string, type: KType, iso: (x: string) => string): string;
  makeList(elem: string, notNull: string, distinct: boolean): string;
  percentile(x: string, fraction: string): string;
  minMax(fn: 'min' | 'max', x: string, type: KType): string;
  boolText(x: string): string;
  /**
   * A WHERE term that returns to the host every few thousand rows of a generator (range, make-series
   * bins), given its row number: on SQLite so that a deadline can stop a statement that would otherwise
   * never call back; null when not needed. Table scans are not guarded: they are bounded by the data
   * (and a guard costs 20–40% of a plain scan).
   */
  counterGuard(counter: string): string | null;
  /** First millisecond of the month of `x` (ms), `months` (an integer expression) months later. */
  monthStart(x: string, months: string): string;
  /** 1-based position of `needle` in `s`, 0 when absent. */
  position(s: string, needle: string): string;
  extract(s: string, pattern: string, group: number, p: ParamFn): string;
  extractAll(s: string, pattern: string, p: ParamFn): string;
  replaceRegex(s: string, pattern: string, rewrite: string, p: ParamFn): string;
  /** Occurrences of a constant text (overlapping, as Kusto counts) or of a regex (non-overlapping). */
  countOf(s: string, search: string, regex: boolean, p: ParamFn): string;
  arrayLength(x: string): string;
  /** JSON object text from (key fragment, JSON-ready value fragment) pairs. */
  jsonObject(pairs: [string, string][]): string;
  /** string → dynamic: the JSON value when the text is JSON, else the text as a JSON string. */
  parseJson(x: string): string;
  /** max_of/min_of: nulls are ignored. */
  extremeOf(fn: 'max' | 'min', args: string[]): string;
  /** The integer at the start of a text (`-?digits`) as text, or null. */
  leadingInteger(x: string): string;
  /** JSON array of JSON-ready elements, in the order of `orderBy`; '[]' for no rows. */
  jsonArrayAgg(elem: string, orderBy: string): string;
  /** Sample variance (n − 1), or its square root; 0 for a single value as in Kusto. */
  sampleVariance(x: string, sqrt: boolean): string;
  /** The same per joined row pair (join output can be quadratic in the data). */
  joinGuard(): string | null;
  /**
   * mv-expand: a join clause giving one row per element of the dynamic `arr` (a property bag: one
   * single-property bag per property; a null value: one null row; an empty array or bag: none; any
   * other value: itself), with the element as JSON text (null for JSON null) and its 0-based index.
   */
  expandArray(arr: string, alias: string): { join: string; value: string; index: string };
  /** make_bag: the properties of the group's bags merged into one (JSON text; '{}' when none). */
  makeBag(x: string): string;
}

const PG_TYPES: Record<KType, string> = {
  string: 'text',
  dynamic: 'text',
  long: 'bigint',
  int: 'bigint',
  datetime: 'bigint',
  timespan: 'bigint',
  real: 'double precision',
  bool: 'boolean',
  unsupported: 'text',
};

const ALNUM = /[\p{L}\p{N}]/u;

/** ARE embedded options must lead the whole pattern: split them off to wrap the rest. */
function splitOptions(are: string): { options: string; body: string } {
  const m = /^\(\?[a-z]+\)/.exec(are);
  return m ? { options: m[0], body: are.slice(m[0].length) } : { options: '', body: are };
}

export const sqlite: Dialect = {
  name: 'sqlite',
  title: 'SQLite',
  numberedParams: false,
  bareColumnAggregates: true,
  re2Captures: true,
  noInline: 'LIMIT -1',
  placeholder: () => '?',
  bindValue(v, type) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if ((type === 'long' || type === 'int' || type === 'datetime' || type === 'timespan') && typeof v === 'number' && Number.isInteger(v)) {
      return BigInt(v); // bind as INTEGER so that `/` is integer division, as in Kusto
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  },
  typedNull: (type) => (type === 'string' ? "''" : 'NULL'),
  nullSafeEq: (a, b) => `(${a} IS ${b})`,
  binaryCollate: (x) => x,
  lower: (x) => `lower(${x})`,
  upper: (x) => `upper(${x})`,
  strlen: (x) => `length(${x})`,
  greatest: (a, b) => `max(${a}, ${b})`,
  substr: (s, start, len) => (len === undefined ? `substr(${s}, ${start})` : `substr(${s}, ${start}, ${len})`),
  castText: (x) => `CAST(${x} AS TEXT)`,
  castReal: (x) => `CAST(${x} AS REAL)`,
  truncToLong: (x) => `CAST(${x} AS INTEGER)`,
  realToText: (x) => `(CASE WHEN ${x} = CAST(${x} AS INTEGER) AND abs(${x}) < 1e15 THEN CAST(CAST(${x} AS INTEGER) AS TEXT) ELSE CAST(${x} AS TEXT) END)`,
  stringToLong: (x) => `kql_tolong(${x})`,
  stringToReal: (x) => `kql_todouble(${x})`,
  stringToDatetime: (x) => `CAST(round(unixepoch(trim(${x}), 'subsec') * 1000) AS INTEGER)`,
  isoDatetime: (x) =>
    `(CASE WHEN ${x} % 1000 = 0 THEN strftime('%Y-%m-%dT%H:%M:%SZ', ${x} / 1000, 'unixepoch')` +
    ` ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ${x} / 1000.0, 'unixepoch') END)`,
  datePart: (part, x) => {
    const f = part === 'year' ? '%Y' : part === 'month' ? '%m' : '%d';
    return `CAST(strftime('${f}', ${x} / 1000, 'unixepoch') AS INTEGER)`;
  },
  pad: (x, width) => `printf('%0${width}d', ${x})`,
  floor: (x) => `floor(${x})`,
  round: (x, digits, integral, p) => {
    if (digits >= 0) return integral ? `${x}` : `round(${x}, ${p(digits, 'long')})`;
    const f = p(10 ** -digits, 'real');
    const r = `(round(CAST(${x} AS REAL) / ${f}) * ${f})`;
    return integral ? `CAST(${r} AS INTEGER)` : r;
  },
  regexMatch: (x, pattern, p) => `kql_regex(${p(pattern, 'string')}, ${x})`,
  has(x, needle, cs, p, affix) {
    if (needle === '') return '(1 = 1)';
    // LIKE (case-insensitive for ASCII) pre-filters cheaply before the exact term check.
    const pre = /^[\x20-\x7e]*$/.test(needle) ? `${x} LIKE ${p('%' + needle.replace(/[\\%_]/g, '\\$&') + '%', 'string')} ESCAPE '\\' AND ` : '';
    const check = affix
      ? `kql_has_affix(${x}, ${p(needle, 'string')}, ${cs ? 1 : 0}, ${affix === 'prefix' ? 1 : 2})`
      : `kql_has(${x}, ${p(needle, 'string')}, ${cs ? 1 : 0})`;
    return `(${pre}${check} = 1)`;
  },
  hash: (x, datetime, mod) => `kql_hash(${x}, ${datetime ? 1 : 0}, ${mod ?? 'NULL'})`,
  ilike: (x, pattern) => `(${x} LIKE ${pattern} ESCAPE '\\')`,
  containsCs: (x, n) => `(instr(${x}, ${n}) > 0)`,
  startsWithCs: (x, n) => `(instr(${x}, ${n}) = 1)`,
  endsWithCs: (x, n) => `(length(${x}) >= length(${n}) AND substr(${x}, length(${x}) - length(${n}) + 1) = ${n})`,
  trimRegex: (x, re, p) => `kql_trim(${p(re, 'string')}, ${x})`,
  split: (s, d) => `kql_split(${s}, ${d})`,
  jsonMember: (x, key, p) => `(${x} -> ${p(typeof key === 'number' ? `$[${key}]` : `$.${JSON.stringify(key)}`, 'string')})`,
  jsonToText: (x) => `(CASE json_type(${x}) WHEN 'text' THEN ${x} ->> '$' WHEN 'null' THEN '' ELSE json(${x}) END)`,
  jsonArray1: (e) => `(CASE WHEN ${e} IS NULL THEN '[]' ELSE json_array(json(${e})) END)`,
  jsonElement: (x, type, iso) => {
    switch (type) {
      case 'bool':
        return `json(CASE WHEN ${x} THEN 'true' ELSE 'false' END)`;
      case 'datetime':
        return iso(x);
      case 'dynamic':
        return `json(${x})`;
      default:
        return x;
    }
  },
  makeList: (elem, notNull, distinct) => `json_group_array(${distinct ? 'DISTINCT ' : ''}${elem}) FILTER (WHERE ${notNull} IS NOT NULL)`,
  percentile: (x, fraction) => `kql_percentile(${x}, ${fraction})`,
  minMax: (fn, x) => `${fn}(${x})`,
  boolText: (x) => `(CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' END)`,
  counterGuard: (n) => `((${n} & 4095) <> 0 OR kql_tick() = 1)`,
  joinGuard: () => 'kql_tick() = 1',
  monthStart: (x, months) => `(CAST(unixepoch(${x} / 1000, 'unixepoch', 'start of month', printf('%+d months', ${months})) AS INTEGER) * 1000)`,
  position: (s, n) => `instr(${s}, ${n})`,
  extract: (s, re, g, p) => `kql_extract(${p(re, 'string')}, ${p(g, 'long')}, ${s})`,
  extractAll: (s, re, p) => `kql_extract_all(${p(re, 'string')}, ${s})`,
  replaceRegex: (s, re, rw, p) => `kql_replace_regex(${s}, ${p(re, 'string')}, ${p(rw, 'string')})`,
  countOf: (s, search, regex, p) => (regex ? `kql_countof_regex(${s}, ${p(search, 'string')})` : `kql_countof(${s}, ${p(search, 'string')})`),
  arrayLength: (x) => `(CASE WHEN json_type(${x}) = 'array' THEN json_array_length(${x}) END)`,
  jsonObject: (pairs) => `json_object(${pairs.map(([k, v]) => `${k}, ${v}`).join(', ')})`,
  parseJson: (x) => `(CASE WHEN ${x} IS NULL THEN NULL WHEN json_valid(${x}) THEN json(${x}) ELSE json_quote(${x}) END)`,
  extremeOf: (fn, args) => `(SELECT ${fn}(v) FROM (${args.map((a) => `SELECT ${a} AS v`).join(' UNION ALL ')}))`,
  sampleVariance: (x, sqrt) => `kql_variance(${x}, ${sqrt ? 1 : 0})`,
  jsonArrayAgg: (elem, orderBy) => `json_group_array(${elem} ORDER BY ${orderBy})`,
  makeBag: (x) =>
    `(SELECT json_group_object(e.key, json(r.value -> e.fullkey)) FROM json_each(json_group_array(json(${x}))) AS r, json_each(r.value) AS e WHERE r.type = 'object')`,
  expandArray: (arr, a) => ({
    join:
      `CROSS JOIN json_each(CASE WHEN ${arr} IS NULL THEN '[null]' WHEN json_type(${arr}) = 'array' THEN ${arr}` +
      ` WHEN json_type(${arr}) = 'object' THEN (SELECT json_group_array(json_object(key, json(${arr} -> fullkey))) FROM json_each(${arr}))` +
      ` ELSE json_array(json(${arr})) END) AS ${a}`,
    value: `(CASE ${a}.type WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'object' THEN ${a}.value WHEN 'array' THEN ${a}.value ELSE json_quote(${a}.value) END)`,
    index: `${a}.key`,
  }),
  leadingInteger: (x) => `(CASE WHEN ${x} GLOB '[0-9]*' OR ${x} GLOB '-[0-9]*' THEN CAST(CAST(${x} AS INTEGER) AS TEXT) END)`,
};

export const postgres: Dialect = {
  name: 'postgres',
  title: 'PostgreSQL',
  numberedParams: true,
  bareColumnAggregates: false,
  re2Captures: false,
  noInline: 'OFFSET 0',
  placeholder: (i, type) => `$${i}::${PG_TYPES[type]}`,
  bindValue(v, type) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    if ((type === 'long' || type === 'int' || type === 'datetime' || type === 'timespan') && typeof v === 'number') return Math.round(v);
    return v;
  },
  typedNull: (type) => (type === 'string' ? "''" : `NULL::${PG_TYPES[type]}`),
  nullSafeEq: (a, b) => `(${a} IS NOT DISTINCT FROM ${b})`,
  binaryCollate: (x) => `${x} COLLATE "C"`,
  lower: (x) => `lower(${x})`,
  upper: (x) => `upper(${x})`,
  strlen: (x) => `char_length(${x})`,
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  substr: (s, start, len) => (len === undefined ? `substr(${s}, (${start})::int)` : `substr(${s}, (${start})::int, (${len})::int)`),
  castText: (x) => `(${x})::text`,
  castReal: (x) => `(${x})::double precision`,
  truncToLong: (x) => `trunc(${x})::bigint`,
  realToText: (x) => `(${x})::text`,
  stringToLong: (x) => `(CASE WHEN ${x} ~ '^\\s*[+-]?[0-9]{1,18}\\s*$' THEN trim(${x})::bigint END)`,
  stringToReal: (x) => `(CASE WHEN ${x} ~* '^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)(e[+-]?[0-9]{1,3})?\\s*$' THEN trim(${x})::double precision END)`,
  stringToDatetime: (x) => `kql_todatetime(${x})`,
  isoDatetime: (x) =>
    `(CASE WHEN ${x} % 1000 = 0 THEN to_char(to_timestamp(${x} / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')` +
    ` ELSE to_char(to_timestamp(${x} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END)`,
  datePart: (part, x) => `extract(${part} FROM to_timestamp(${x} / 1000.0) AT TIME ZONE 'UTC')::bigint`,
  pad: (x, width) => `lpad((${x})::text, ${width}, '0')`,
  floor: (x) => `floor(${x})`,
  round: (x, digits, integral, p) => {
    const r = `round((${x})::numeric, (${p(digits, 'long')})::int)`;
    return integral ? `${r}::bigint` : `${r}::double precision`;
  },
  regexMatch: (x, pattern, p) => `(${x} ~ ${p(postgresRegex(pattern), 'string')})`,
  has(x, needle, cs, p, affix) {
    if (needle === '') return '(1 = 1)';
    const body = needle.replace(/[^\p{L}\p{N}\s_]/gu, '\\$&');
    const pre = affix !== 'suffix' && ALNUM.test(needle[0]) ? '(^|[^[:alnum:]])' : '';
    const post = affix !== 'prefix' && ALNUM.test(needle[needle.length - 1]) ? '($|[^[:alnum:]])' : '';
    return `(${x} ${cs ? '~' : '~*'} ${p(pre + body + post, 'string')})`;
  },
  ilike: (x, pattern) => `(${x} ILIKE ${pattern} ESCAPE '\\')`,
  containsCs: (x, n) => `(strpos(${x}, ${n}) > 0)`,
  startsWithCs: (x, n) => `starts_with(${x}, ${n})`,
  endsWithCs: (x, n) => `(right(${x}, char_length(${n})) = ${n})`,
  trimRegex: (x, re, p) => {
    const { options, body } = splitOptions(postgresRegex(re));
    return `regexp_replace(regexp_replace(${x}, ${p(`${options}^(?:${body})+`, 'string')}, ''), ${p(`${options}(?:${body})+$`, 'string')}, '')`;
  },
  split: (s, d) => `(CASE WHEN ${s} IS NULL THEN NULL WHEN ${s} = '' THEN '[""]' ELSE array_to_json(string_to_array(${s}, ${d}))::text END)`,
  jsonMember: (x, key, p) => (typeof key === 'number' ? `((${x})::jsonb -> ${p(key, 'int')}::int)::text` : `((${x})::jsonb -> ${p(key, 'string')})::text`),
  jsonToText: (x) => `(CASE jsonb_typeof((${x})::jsonb) WHEN 'string' THEN (${x})::jsonb #>> '{}' WHEN 'null' THEN '' ELSE ((${x})::jsonb)::text END)`,
  jsonArray1: (e) => `(CASE WHEN ${e} IS NULL THEN '[]' ELSE jsonb_build_array((${e})::jsonb)::text END)`,
  jsonElement: (x, type, iso) => {
    switch (type) {
      case 'datetime':
        return `to_jsonb(${iso(x)})`;
      case 'real':
        // A whole real keeps its fraction (75.0, as SQLite writes it): series functions tell reals from integers by it.
        return `(CASE WHEN ${x} = trunc(${x}) AND abs(${x}) < 1e15 THEN (trunc(${x})::bigint::text || '.0')::jsonb ELSE to_jsonb(${x}) END)`;
      case 'dynamic':
        return `(${x})::jsonb`;
      default:
        return `to_jsonb(${x})`;
    }
  },
  makeList: (elem, notNull, distinct) => `coalesce(jsonb_agg(${distinct ? 'DISTINCT ' : ''}${elem}) FILTER (WHERE ${notNull} IS NOT NULL), '[]'::jsonb)::text`,
  percentile: (x, fraction) => `percentile_disc(${fraction}) WITHIN GROUP (ORDER BY ${x})`,
  minMax: (fn, x, type) => {
    if (type === 'bool') return `${fn === 'min' ? 'bool_and' : 'bool_or'}(${x})`;
    if (type === 'string') return `${fn}(${x} COLLATE "C")`;
    return `${fn}(${x})`;
  },
  boolText: (x) => `(CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' END)`,
  // statement_timeout stops PostgreSQL statements wherever they are.
  counterGuard: () => null,
  joinGuard: () => null,
  monthStart: (x, months) =>
    `(extract(epoch FROM date_trunc('month', to_timestamp(${x} / 1000.0) AT TIME ZONE 'UTC') + make_interval(months => (${months})::int)) * 1000)::bigint`,
  position: (s, n) => `strpos(${s}, ${n})`,
  extract(s, re, g, p) {
    const { options, body } = splitOptions(postgresRegex(re, true));
    return `(regexp_match(${s}, ${p(`${options}(${body})`, 'string')}))[${g + 1}]`;
  },
  extractAll(s, re, p) {
    const groups = re2(re).groupCount();
    const { options, body } = splitOptions(postgresRegex(re, true));
    const elem = groups === 0 ? 'm[1]' : groups === 1 ? 'm[2]' : `array_to_json(m[2:${groups + 1}])`;
    return `(SELECT json_agg(${elem})::text FROM regexp_matches(${s}, ${p(`${options}(${body})`, 'string')}, 'g') AS r(m))`;
  },
  replaceRegex: (s, re, rw, p) => `regexp_replace(${s}, ${p(postgresRegex(re, true), 'string')}, ${p(rw.replace(/\\0/g, '\\&'), 'string')}, 'g')`,
  countOf(s, search, regex, p) {
    const pattern = regex ? postgresRegex(search, true) : `(?=${search.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')})`;
    if (!regex && search === '') return '0';
    return `(SELECT count(*) FROM regexp_matches(${s}, ${p(pattern, 'string')}, 'g'))`;
  },
  arrayLength: (x) => `(CASE WHEN jsonb_typeof((${x})::jsonb) = 'array' THEN jsonb_array_length((${x})::jsonb) END)`,
  jsonObject: (pairs) => `jsonb_build_object(${pairs.map(([k, v]) => `${k}, ${v}`).join(', ')})::text`,
  parseJson: (x) => `kql_parse_json(${x})`,
  extremeOf: (fn, args) => `${fn === 'max' ? 'GREATEST' : 'LEAST'}(${args.join(', ')})`,
  sampleVariance: (x, sqrt) => `(CASE WHEN count(${x}) = 1 THEN 0 ELSE ${sqrt ? 'stddev_samp' : 'var_samp'}(${x}) END)`,
  jsonArrayAgg: (elem, orderBy) => `coalesce(jsonb_agg(${elem} ORDER BY ${orderBy}), '[]'::jsonb)::text`,
  makeBag: (x) =>
    `(SELECT coalesce(jsonb_object_agg(e.k, e.v), '{}'::jsonb)::text FROM jsonb_array_elements(jsonb_agg((${x})::jsonb)) AS r(o),` +
    ` jsonb_each(CASE WHEN jsonb_typeof(r.o) = 'object' THEN r.o ELSE '{}'::jsonb END) AS e(k, v))`,
  expandArray: (arr, a) => ({
    join:
      `CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN ${arr} IS NULL THEN '[null]'::jsonb WHEN jsonb_typeof((${arr})::jsonb) = 'array' THEN (${arr})::jsonb` +
      ` WHEN jsonb_typeof((${arr})::jsonb) = 'object' THEN (SELECT coalesce(jsonb_agg(jsonb_build_object(b.k, b.v)), '[]'::jsonb) FROM jsonb_each((${arr})::jsonb) AS b(k, v))` +
      ` ELSE jsonb_build_array((${arr})::jsonb) END) WITH ORDINALITY AS ${a}(v, n)`,
    value: `(CASE WHEN jsonb_typeof(${a}.v) = 'null' THEN NULL ELSE ${a}.v::text END)`,
    index: `(${a}.n - 1)`,
  }),
  leadingInteger: (x) => `substring(${x} from '^-?[0-9]+')`,
  hash: (x, datetime, mod) => `kql_xxhash64(${datetime ? `kql_ticks_bytes(${x})` : `convert_to(${x}, 'UTF8')`}, ${mod === null ? 'NULL' : `(${mod})::bigint`})`,
};

export function dialectFor(name: DialectName): Dialect {
  return name === 'postgres' ? postgres : sqlite;
}
