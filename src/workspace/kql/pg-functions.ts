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
