/**
 * Everything outside the supported subset, every syntax error and every semantic error is a KqlError
 * with a position; the Logs API error shape and option validation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  KqlError,
  QueryTimeoutError,
  logsErrorStatus,
  parseIsoDuration,
  parseTimespanOption,
  runKql,
  toLogsError,
  translateKql,
  warmUpKql,
  type SqlRunner,
} from '../query.ts';

warmUpKql();

function fails(kql: string): KqlError {
  try {
    translateKql(kql, { dialect: 'sqlite', workspace: 'default' });
  } catch (e) {
    assert.ok(e instanceof KqlError, `expected KqlError for ${kql}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected an error for: ${kql}`);
}

const T = 'ServiceDesk_CL';

/** [query, text the message must contain, line, column] */
const unsupported: [string, string, number, number][] = [
  [`${T} | mv-expand x = split(Title_s, " ") limit 2`, "'limit' of operator 'mv-expand'", 1, 52],
  [`${T} | mv-expand x = split(Title_s, " ") to typeof(string)`, "'to typeof(…)' of operator 'mv-expand'", 1, 52],
  [`${T} | mv-expand kind=array x = split(Title_s, " ")`, "parameter 'kind=array' of operator 'mv-expand'", 1, 28],
  [`${T} | mv-expand a = split(Title_s, " "), b = split(Title_s, ",")`, "several arrays in one 'mv-expand'", 1, 18],
  [`${T} | parse kind=relaxed Title_s with a " " b`, "parameter 'kind=relaxed' of operator 'parse'", 1, 24],
  [`${T} | evaluate bag_unpack(Title_s)`, "operator 'evaluate'", 1, 18],
  ['print x = 1 | evaluate bag_unpack(x)', "operator 'evaluate'", 1, 15],
  [`${T} | project-reorder Title_s`, "operator 'project-reorder'", 1, 18],
  [`${T} | sample-distinct 10 of Computer`, "operator 'sample-distinct'", 1, 18],
  [`${T} | sort by TimeGenerated asc | where prev(Title_s) == Title_s`, "function 'prev' is only supported in 'extend', 'project' or 'serialize'", 1, 52],
  [`${T} | serialize n = row_number(10)`, "the arguments of 'row_number'", 1, 43],
  [`${T} | summarize hint.shufflekey=Computer count() by Computer`, "parameter 'hint.shufflekey=Computer' of operator 'summarize'", 1, 18],
  [`${T} | join hint.strategy=broadcast (ServiceDeskLog_CL) on Computer`, "parameter 'hint.strategy' of operator 'join'", 1, 23],
  [`${T} | extend m = startofyear(TimeGenerated)`, "function 'startofyear'", 1, 29],
  [`${T} | extend c = toscalar(${T} | count)`, "function 'toscalar'", 1, 29],
  [`let m = materialize(${T}); m | count`, "function 'materialize'", 1, 9],
  [`set notruncation; ${T} | count`, "'set' statements are not supported", 1, 1],
  [`${T} | count; ServiceDeskLog_CL | count`, 'more than one query statement', 1, 25],
  [`${T} | render timechart | count`, "operator 'render' is only supported as the last operator", 1, 18],
  [`${T} | summarize make_set(Computer, 10)`, "the maxSize argument of 'make_set'", 1, 47],
  [`${T} | where * has "x"`, "'*' is only supported", 1, 24],
  [`${T} | extend d = dynamic([datetime(2020-01-01)])`, 'dynamic literal', 1, 29],
  [`${T} | extend g = guid(null)`, 'guid literal', 1, 29],
  [`${T} | where Title_s matches regex "(x)\\\\1"`, 'invalid escape sequence', 1, 46],
  [`${T} | where Title_s matches regex "a(?=b)"`, 'lookaround', 1, 46],
  [`${T} | where Title_s matches regex @"\\pL+"`, "'\\p' in a regular expression is not supported on PostgreSQL", 1, 46],
  [`${T} | where Title_s hasprefix "x"`, "operator 'hasprefix'", 1, 24],
  [`${T} | where Title_s has_any ("x")`, "operator 'has_any'", 1, 24],
  [`${T} | where Title_s like "x"`, "operator 'like'", 1, 24],
  [`${T} | take -1`, "row count of operator 'take'", 1, 23],
  [`${T} | extend t = tolong(TimeGenerated)`, 'tolong() of a datetime', 1, 29],
  [`${T} | where bin(TimeGenerated, 0d) > ago(1d)`, "bin size of 'bin'", 1, 43],
  [`${T} | extend f = format_datetime(TimeGenerated, "dddd")`, "format_datetime format 'dddd'", 1, 60],
  [`${T} | where Title_s has Computer`, "the right side of 'has' must be a constant string", 1, 36],
  [`${T} | summarize (a, b) = arg_max(TimeGenerated, Computer)`, 'tuple naming', 1, 28],
  ['.show tables', 'control commands are not supported', 1, 1],
  [`${T} | top-nested 3 of Computer with others = Title_s by count()`, 'the others value of a top-nested level must be a constant', 1, 57],
  [`${T} | top-nested 3 of bin(TimeGenerated, 1d) with others = "x" by count()`, "a constant of the level's type (datetime)", 1, 71],
  [`${T} | search kind=case_insensitive "x" | search "y" | find "z"`, "operator 'find'", 1, 66],
  [`ServiceDeskLog_CL | extend h = hash(ActionStatus_d)`, 'hash() of a real', 1, 32],
  [`${T} | extend h = hash(Priority_s, 0) , g = hash(now() - TimeGenerated)`, 'hash() of a timespan', 1, 55],
  ['let f = (T:(x:long)) { T | count }; f((print x = 1))', 'a tabular parameter of a user-defined function', 1, 10],
  [`print s = series_fill_linear(dynamic([1, null, 3]), 0, now() > ago(1d))`, "the fill_edges argument of 'series_fill_linear'", 1, 56],
  [
    `${T} | make-series n = count() on TimeGenerated step 1d | extend s = series_fill_linear(n, strlen(tostring(n)))`,
    "the missing value placeholder of 'series_fill_linear'",
    1,
    102,
  ],
];

describe('unsupported KQL is refused with the construct and its position', () => {
  for (const [kql, text, line, column] of unsupported) {
    it(`refuses ${text.replace(/^operator |^function /, '')}`, () => {
      const e = fails(kql);
      assert.equal(e.code, 'UnsupportedError', `${kql}: ${e.message}`);
      assert.ok(e.message.includes(text), `message ${JSON.stringify(e.message)} should mention ${text}`);
      assert.deepEqual([e.position?.line, e.position?.column], [line, column], `position for ${kql}: ${e.message}`);
      assert.equal(
        e.position?.offset,
        kql
          .split('\n')
          .slice(0, line - 1)
          .join('\n').length +
          (line > 1 ? 1 : 0) +
          column -
          1,
      );
    });
  }

  it('lists the supported operators when an operator is unknown', () => {
    assert.match(fails(`${T} | mv-apply x = split(Title_s, " ") on (take 1)`).message, /supported operators: where, project/);
  });

  it('reports the earliest unsupported construct first', () => {
    const e = fails(`${T} | extend a = startofyear(TimeGenerated) | project-reorder Computer`);
    assert.match(e.message, /function 'startofyear'/);
  });
});

describe('syntax and semantic errors carry Kusto codes and positions', () => {
  const cases: [string, KqlError['code'], string, number, number][] = [
    [`${T} | where`, 'SyntaxError', 'KS006', 1, 23],
    [`${T} | summarize count( by Computer`, 'SyntaxError', 'KS005', 1, 35],
    [`${T} | where Title_s == "abc`, 'SyntaxError', 'KS001', 1, 39],
    [`${T} | summarize count() by Computer | render`, 'SyntaxError', 'KS005', 1, 56],
    [`${T}\n| where Foo == 1`, 'SemanticError', 'KS142', 2, 9],
    ['Nope | count', 'SemanticError', 'KS204', 1, 1],
    [`${T} | extend x = count()`, 'SemanticError', 'KS144', 1, 29],
    [`${T} | take Priority_s`, 'SemanticError', 'KS134', 1, 23],
    [`${T} | where Title_s > 1 and TimeGenerated == "x"`, 'SemanticError', 'KS', 1, 32],
    [`${T} | extend f = datetime_diff("decade", TimeGenerated, TimeGenerated)`, 'SemanticError', 'KS', 1, 43],
  ];
  for (const [kql, code, inner, line, column] of cases) {
    it(`${code} ${inner} for ${JSON.stringify(kql.slice(0, 50))}`, () => {
      const e = fails(kql);
      assert.equal(e.code, code, e.message);
      assert.ok(e.innerCode?.startsWith(inner), `${e.innerCode} should start with ${inner}`);
      assert.deepEqual([e.position?.line, e.position?.column], [line, column], e.message);
    });
  }

  it('rejects empty, too long and too deeply nested queries as bad arguments', () => {
    assert.equal(fails('   ').code, 'BadArgumentError');
    assert.equal(fails(`${T} | where Title_s == "${'x'.repeat(100_001)}"`).code, 'BadArgumentError');
    assert.equal(fails(`${T} | where ${'('.repeat(100)}true${')'.repeat(100)}`).code, 'BadArgumentError');
  });

  it('rejects invalid workspace names and timespans', () => {
    assert.throws(
      () => translateKql(`${T} | count`, { dialect: 'sqlite', workspace: 'Bad Name' }),
      (e: unknown) => e instanceof KqlError && e.code === 'BadArgumentError',
    );
    assert.throws(
      () => translateKql(`${T} | count`, { dialect: 'sqlite', workspace: 'default', timespan: 'yesterday' }),
      (e: unknown) => e instanceof KqlError && e.innerCode === 'InvalidTimespan',
    );
  });
});

describe('Logs API error shape', () => {
  it('maps a syntax error to BadArgumentError with inner SyntaxError and line/pos', () => {
    const body = toLogsError(fails(`${T} | where`), 'corr-1');
    assert.equal(body.error.code, 'BadArgumentError');
    assert.equal(body.error.correlationId, 'corr-1');
    assert.equal(body.error.innererror?.code, 'SyntaxError');
    assert.equal(body.error.innererror?.innererror?.code, 'KS006');
    assert.equal(body.error.innererror?.innererror?.line, 1);
    assert.equal(body.error.innererror?.innererror?.pos, 23);
    assert.equal(logsErrorStatus(fails(`${T} | where`)), 400);
  });

  it('maps unsupported constructs to BadArgumentError with inner UnsupportedError', () => {
    const body = toLogsError(fails(`${T} | project-reorder Computer`));
    assert.equal(body.error.code, 'BadArgumentError');
    assert.equal(body.error.innererror?.code, 'UnsupportedError');
    assert.match(body.error.innererror?.innererror?.message ?? '', /project-reorder/);
  });

  it('maps anything else to an internal error without details', () => {
    const body = toLogsError(new Error('secret connection string'));
    assert.equal(body.error.code, 'InternalServerError');
    assert.doesNotMatch(JSON.stringify(body), /secret/);
    assert.equal(logsErrorStatus(new Error('x')), 500);
  });

  it('reports runner timeouts as QueryTimeout (504) and database errors as KqlError', async () => {
    const timeoutRunner: SqlRunner = {
      dialect: 'postgres',
      query: async () => Promise.reject(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })),
    };
    const e1 = await runKql(timeoutRunner, 'default', `${T} | count`, { timeoutMs: 5 }).catch((e) => e);
    assert.ok(e1 instanceof KqlError);
    assert.equal(e1.code, 'QueryTimeout');
    assert.equal(logsErrorStatus(e1), 504);
    assert.equal(toLogsError(e1).error.code, 'GatewayTimeout');
    const sqliteTimeout: SqlRunner = { dialect: 'sqlite', query: async () => Promise.reject(new QueryTimeoutError('late')) };
    assert.equal((await runKql(sqliteTimeout, 'default', `${T} | count`).catch((e) => e)).code, 'QueryTimeout');
    const broken: SqlRunner = { dialect: 'sqlite', query: async () => Promise.reject(new Error('disk I/O error')) };
    const e2 = await runKql(broken, 'default', `${T} | count`).catch((e) => e);
    assert.ok(e2 instanceof KqlError);
    assert.equal(e2.innerCode, 'QueryExecutionError');
  });
});

describe('timespan option', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  it('parses ISO 8601 durations', () => {
    assert.equal(parseIsoDuration('P1D'), 86400000);
    assert.equal(parseIsoDuration('PT1H30M'), 5400000);
    assert.equal(parseIsoDuration('P1W'), 7 * 86400000);
    assert.equal(parseIsoDuration('PT0.5S'), 500);
    assert.equal(parseIsoDuration('P'), undefined);
    assert.equal(parseIsoDuration('1d'), undefined);
  });
  it('turns a duration into [now - d, now] and accepts the interval forms', () => {
    assert.deepEqual(parseTimespanOption('P1D', now), { start: now.getTime() - 86400000, end: now.getTime() });
    const s = Date.parse('2026-03-01T00:00:00Z');
    assert.deepEqual(parseTimespanOption('2026-03-01T00:00:00Z/2026-03-02T00:00:00Z', now), { start: s, end: s + 86400000 });
    assert.deepEqual(parseTimespanOption('2026-03-01T00:00:00Z/P1D', now), { start: s, end: s + 86400000 });
    assert.deepEqual(parseTimespanOption('P1D/2026-03-02T00:00:00Z', now), { start: s, end: s + 86400000 });
    assert.throws(() => parseTimespanOption('2026-03-02T00:00:00Z/2026-03-01T00:00:00Z', now), KqlError);
    assert.throws(() => parseTimespanOption('a/b/c', now), KqlError);
  });
});
