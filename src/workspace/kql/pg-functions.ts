/**
 * SQL functions of the KQL engine that PostgreSQL needs beside the workspace tables (created by migrations);
 * SQLite registers its equivalents on each connection (sqlite-functions.ts).
 */
import type { Dialect } from '../../store/dialect.ts';

/** PostgreSQL helper: string → epoch ms, null when unparsable (Kusto `todatetime` semantics). */
const PG_TODATETIME_FN = `CREATE OR REPLACE FUNCTION kql_todatetime(s text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF s IS NULL OR s !~ '^\\s*\\d{4}-\\d{1,2}-\\d{1,2}([T ]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?)?\\s*(Z|z|[+-]\\d{2}(:?\\d{2})?)?\\s*$' THEN
    RETURN NULL;
  END IF;
  IF s ~ '(Z|z|[+-]\\d{2}(:?\\d{2})?)\\s*$' AND s ~ '[T ]\\d' THEN
    RETURN floor(extract(epoch FROM s::timestamptz) * 1000)::bigint;
  END IF;
  RETURN floor(extract(epoch FROM (regexp_replace(s, '\\s*(Z|z)\\s*$', '')::timestamp AT TIME ZONE 'UTC')) * 1000)::bigint;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$fn$`;

/** PostgreSQL helper: Kusto `parse_json` — the JSON value when the text is JSON, else the text as a JSON string. */
const PG_PARSE_JSON_FN = `CREATE OR REPLACE FUNCTION kql_parse_json(s text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF s IS NULL THEN RETURN NULL; END IF;
  RETURN (s::jsonb)::text;
EXCEPTION WHEN others THEN
  RETURN to_jsonb(s)::text;
END
$fn$`;

/** SQL functions of the KQL engine that PostgreSQL needs beside the tables (none on SQLite). */
export function kqlHelperFunctionsSql(dialect: Dialect): string[] {
  return dialect === 'postgres' ? [PG_TODATETIME_FN, PG_PARSE_JSON_FN] : [];
}

// Unsigned 64-bit arithmetic for xxHash64 in numeric (bigint would overflow): values in [0, 2^64).
const PG_U64_FNS = [
  `CREATE OR REPLACE FUNCTION kql_u64_xor(a numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT CASE WHEN r < 0 THEN r + 18446744073709551616 ELSE r END FROM (SELECT (
    (CASE WHEN a >= 9223372036854775808 THEN a - 18446744073709551616 ELSE a END)::bigint #
    (CASE WHEN b >= 9223372036854775808 THEN b - 18446744073709551616 ELSE b END)::bigint)::numeric AS r) AS s
$fn$`,
  `CREATE OR REPLACE FUNCTION kql_u64_rotl(x numeric, r int) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT mod(x * (1::bigint << r)::numeric, 18446744073709551616) + div(x, (1::bigint << (63 - r))::numeric * 2)
$fn$`,
  `CREATE OR REPLACE FUNCTION kql_u64_round(acc numeric, input numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT mod(kql_u64_rotl(mod(acc + input * 14029467366897019727, 18446744073709551616), 31) * 11400714785074694791, 18446744073709551616)
$fn$`,
  `CREATE OR REPLACE FUNCTION kql_u64_word(data bytea, p int, n int) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE r numeric := 0;
BEGIN
  FOR i IN REVERSE n - 1..0 LOOP r := r * 256 + get_byte(data, p + i); END LOOP;
  RETURN r;
END
$fn$`,
];

/** PostgreSQL helper: Kusto `hash()` — xxHash64 (seed 0) of the bytes; with `modulo`, the unsigned hash's remainder. */
const PG_XXHASH64_FN = `CREATE OR REPLACE FUNCTION kql_xxhash64(data bytea, modulo bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  m CONSTANT numeric := 18446744073709551616;
  p1 CONSTANT numeric := 11400714785074694791;
  p2 CONSTANT numeric := 14029467366897019727;
  p3 CONSTANT numeric := 1609587929392839161;
  p4 CONSTANT numeric := 9650029242287828579;
  p5 CONSTANT numeric := 2870177450012600261;
  len int;
  p int := 0;
  h numeric;
  v numeric[];
BEGIN
  IF data IS NULL THEN RETURN NULL; END IF;
  len := length(data);
  IF len >= 32 THEN
    v := ARRAY[mod(p1 + p2, m), p2, 0, m - p1];
    WHILE p <= len - 32 LOOP
      FOR j IN 1..4 LOOP v[j] := kql_u64_round(v[j], kql_u64_word(data, p + (j - 1) * 8, 8)); END LOOP;
      p := p + 32;
    END LOOP;
    h := mod(kql_u64_rotl(v[1], 1) + kql_u64_rotl(v[2], 7) + kql_u64_rotl(v[3], 12) + kql_u64_rotl(v[4], 18), m);
    FOR j IN 1..4 LOOP h := mod(mod(kql_u64_xor(h, kql_u64_round(0, v[j])) * p1, m) + p4, m); END LOOP;
  ELSE
    h := p5;
  END IF;
  h := mod(h + len, m);
  WHILE p + 8 <= len LOOP
    h := mod(mod(kql_u64_rotl(kql_u64_xor(h, kql_u64_round(0, kql_u64_word(data, p, 8))), 27) * p1, m) + p4, m);
    p := p + 8;
  END LOOP;
  IF p + 4 <= len THEN
    h := mod(mod(kql_u64_rotl(kql_u64_xor(h, mod(kql_u64_word(data, p, 4) * p1, m)), 23) * p2, m) + p3, m);
    p := p + 4;
  END IF;
  WHILE p < len LOOP
    h := mod(kql_u64_rotl(kql_u64_xor(h, mod(get_byte(data, p) * p5, m)), 11) * p1, m);
    p := p + 1;
  END LOOP;
  h := mod(kql_u64_xor(h, div(h, 8589934592)) * p2, m);
  h := mod(kql_u64_xor(h, div(h, 536870912)) * p3, m);
  h := kql_u64_xor(h, div(h, 4294967296));
  IF modulo IS NOT NULL THEN
    RETURN CASE WHEN modulo > 0 THEN mod(h, modulo)::bigint END;
  END IF;
  RETURN (CASE WHEN h >= 9223372036854775808 THEN h - m ELSE h END)::bigint;
END
$fn$`;

/** PostgreSQL helper: the 8 little-endian bytes of a datetime's ticks (100 ns since 0001-01-01), what Kusto hashes. */
const PG_TICKS_BYTES_FN = `CREATE OR REPLACE FUNCTION kql_ticks_bytes(ms bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  be bytea := decode(lpad(to_hex(ms * 10000 + 621355968000000000), 16, '0'), 'hex');
  le bytea := '\\x0000000000000000'::bytea;
BEGIN
  FOR i IN 0..7 LOOP le := set_byte(le, i, get_byte(be, 7 - i)); END LOOP;
  RETURN le;
END
$fn$`;

/** PostgreSQL helper: Kusto `series_stats_dynamic` (the rules of kql/series.ts `seriesStats`). */
const PG_SERIES_STATS_FN = `CREATE OR REPLACE FUNCTION kql_series_stats(arr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  j jsonb;
  e record;
  v double precision;
  n int := 0;
  total double precision := 0;
  mean double precision := 0;
  m2 double precision := 0;
  delta double precision;
  mn double precision; mni int; mx double precision; mxi int; var double precision;
BEGIN
  IF arr IS NULL THEN RETURN NULL; END IF;
  BEGIN j := arr::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END;
  IF jsonb_typeof(j) <> 'array' THEN RETURN NULL; END IF;
  FOR e IN SELECT value, ordinality - 1 AS idx FROM jsonb_array_elements(j) WITH ORDINALITY ORDER BY ordinality LOOP
    CONTINUE WHEN jsonb_typeof(e.value) <> 'number';
    v := (e.value #>> '{}')::double precision;
    IF mn IS NULL OR v < mn THEN mn := v; mni := e.idx; END IF;
    IF mx IS NULL OR v > mx THEN mx := v; mxi := e.idx; END IF;
    n := n + 1;
    total := total + v;
    delta := v - mean;
    mean := mean + delta / n;
    m2 := m2 + delta * (v - mean);
  END LOOP;
  IF n > 0 THEN var := CASE WHEN n = 1 THEN 0 ELSE m2 / (n - 1) END; END IF;
  RETURN json_build_object('min', mn, 'min_idx', mni, 'max', mx, 'max_idx', mxi, 'avg', total / nullif(n, 0), 'stdev', sqrt(var), 'variance', var)::text;
END
$fn$`;

/** PostgreSQL helper: Kusto `series_fill_linear` (the rules of kql/series.ts `seriesFillLinear`). */
const PG_SERIES_FILL_LINEAR_FN = `CREATE OR REPLACE FUNCTION kql_series_fill_linear(arr text, missing text, fill_edges boolean, constant double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  j jsonb;
  miss jsonb := coalesce(missing, 'null')::jsonb;
  ints boolean := arr !~ '\\d\\.\\d|\\d[eE]';
  els jsonb[];
  out jsonb[];
  a int := 0;
  first int := 0;
  va double precision;
  vb double precision;
  x double precision;
BEGIN
  IF arr IS NULL THEN RETURN NULL; END IF;
  BEGIN j := arr::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END;
  IF jsonb_typeof(j) <> 'array' THEN RETURN NULL; END IF;
  els := ARRAY(SELECT value FROM jsonb_array_elements(j) WITH ORDINALITY ORDER BY ordinality);
  out := els;
  FOR i IN 1..coalesce(array_length(els, 1), 0) LOOP
    CONTINUE WHEN els[i] = miss OR jsonb_typeof(els[i]) <> 'number';
    IF first = 0 THEN first := i; END IF;
    IF a > 0 THEN
      va := (els[a] #>> '{}')::double precision;
      vb := (els[i] #>> '{}')::double precision;
      FOR k IN a + 1..i - 1 LOOP
        x := va + (vb - va) * (k - a) / (i - a);
        out[k] := CASE WHEN ints THEN to_jsonb(trunc(x)::bigint) ELSE to_jsonb(x) END;
      END LOOP;
    END IF;
    a := i;
  END LOOP;
  IF first = 0 THEN
    IF constant IS NULL THEN RETURN j::text; END IF;
    RETURN coalesce((SELECT jsonb_agg(to_jsonb(constant)) FROM unnest(els)), '[]'::jsonb)::text;
  END IF;
  IF fill_edges THEN
    FOR k IN 1..first - 1 LOOP out[k] := els[first]; END LOOP;
    FOR k IN a + 1..array_length(els, 1) LOOP out[k] := els[a]; END LOOP;
  END IF;
  RETURN to_jsonb(out)::text;
END
$fn$`;

/** KQL helpers added with migration 7 (hash, series_stats, series_fill_linear): PostgreSQL only. */
export function kqlHashAndSeriesFunctionsSql(dialect: Dialect): string[] {
  return dialect === 'postgres' ? [...PG_U64_FNS, PG_XXHASH64_FN, PG_TICKS_BYTES_FN, PG_SERIES_STATS_FN, PG_SERIES_FILL_LINEAR_FN] : [];
}
