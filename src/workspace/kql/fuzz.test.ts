/**
 * Fuzz: random token soup, hostile strings and identifiers, huge and deeply nested queries, and
 * randomly generated valid pipelines. Whatever the input, the engine throws nothing but KqlError,
 * and whatever it compiles is one parameterised SELECT with no literal text in it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KqlError, runKql, translateKql, warmUpKql } from '../query.ts';
import type { CompiledQuery } from './compile.ts';
import { createSqliteTestRunner, tryPgTestRunner, type TestRunner } from './test-helpers.ts';
import { loadFixtures, NOW } from './test-fixtures.ts';
import { seededRandom } from '../../core/random.ts';

warmUpKql();

const SEED = Number(process.env.KQL_FUZZ_SEED ?? 20260310);
/** Scale the number of generated cases (KQL_FUZZ_SCALE=10 for a long run). */
const SCALE = Number(process.env.KQL_FUZZ_SCALE ?? 1);

const HOSTILE = [
  `'; DROP TABLE ws_servicedesk_cl; --`,
  `" OR 1=1 --`,
  `Robert'); DROP TABLE Students;--`,
  `\u0001 0\u0002`,
  `$1::text`,
  `?`,
  `%_\\`,
  `*/ DROP TABLE x /*`,
  `ß∂ƒ©˙∆˚¬… 🚀`,
  `\u0000`,
];
const SENTINEL = /DROP TABLE|OR 1=1|Robert|Students|🚀/;

function kqlString(s: string): string {
  return JSON.stringify(s); // a valid KQL double-quoted literal with escapes
}

/** Throws unless `kql` either translates into a safe single SELECT or fails with a KqlError. */
function translateOrKqlError(kql: string, dialect: 'sqlite' | 'postgres'): CompiledQuery | KqlError {
  let c: CompiledQuery;
  try {
    c = translateKql(kql, { dialect, workspace: 'default', now: NOW, rowCap: 1000 });
  } catch (e) {
    if (e instanceof KqlError) return e;
    throw new Error(`non-KqlError for ${JSON.stringify(kql.slice(0, 300))}: ${(e as Error)?.stack ?? String(e)}`, { cause: e });
  }
  assertSafeSql(c, kql, dialect);
  return c;
}

function assertSafeSql(c: CompiledQuery, kql: string, dialect: 'sqlite' | 'postgres'): void {
  const where = `for ${JSON.stringify(kql.slice(0, 200))}`;
  assert.match(c.sql, /^SELECT /, `not a SELECT ${where}`);
  assert.ok(!c.sql.includes(';'), `semicolon in SQL ${where}`);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f]/.test(c.sql), `control characters in SQL ${where}`);
  assert.ok(!SENTINEL.test(c.sql), `literal text leaked into SQL ${where}`);
  if (dialect === 'sqlite') {
    assert.equal((c.sql.match(/\?/g) ?? []).length, c.params.length, `placeholder count ${where}`);
  } else {
    const nums = [...c.sql.matchAll(/\$(\d+)::/g)].map((m) => Number(m[1]));
    assert.equal(nums.length ? Math.max(...nums) : 0, c.params.length, `placeholder count ${where}`);
  }
  // The only quoted SQL string constants are the compiler's own fixed ones (formats, escapes, '').
  for (const m of c.sql.matchAll(/'([^']*)'/g)) assert.ok(m[1].length <= 80 && !SENTINEL.test(m[1]), `unexpected SQL string constant '${m[1]}' ${where}`);
}

const TOKENS = [
  'ServiceDesk_CL',
  'ServiceDeskLog_CL',
  'ItsmActionOutcome_CL',
  'Nope_CL',
  '|',
  '|',
  '|',
  'where',
  'project',
  'extend',
  'summarize',
  'by',
  'count',
  'count()',
  'take',
  'limit',
  '10',
  '-3',
  'sort',
  'order',
  'asc',
  'desc',
  'nulls',
  'first',
  'last',
  'join',
  'kind=inner',
  'kind=leftouter',
  'kind=fullouter',
  'on',
  '(',
  ')',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ',',
  '==',
  '!=',
  '=~',
  '!~',
  'has',
  '!has',
  'contains',
  'startswith',
  'endswith',
  'matches regex',
  'and',
  'or',
  'not',
  'in',
  '!in',
  'in~',
  'between',
  '..',
  '=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>=',
  '"x"',
  "'y'",
  '@"c:\\z"',
  'let',
  'x',
  ';',
  'ago(1d)',
  'now()',
  'datetime(2026-01-01)',
  '1h',
  '7d',
  'Title_s',
  'TimeGenerated',
  'Computer',
  'Priority_s',
  'Status_b',
  'ActionStatus_d',
  'bin',
  '(TimeGenerated, 1d)',
  'arg_max',
  'arg_min',
  '*',
  'render',
  'timechart',
  'mv-expand',
  'evaluate',
  'search',
  'print',
  'union',
  'distinct',
  'top',
  'project-away',
  'project-rename',
  '$left',
  '$right',
  '.',
  'null',
  'true',
  'false',
  '1.5',
  '0x1F',
  '// note\n',
  '\n',
  'strlen',
  'tolower',
  'iff',
  'case',
  'dcount',
  'make_set',
  'percentile',
  'tostring',
  'split',
  '[0]',
  'dynamic',
  "['odd name']",
  '```multi```',
  'typeof',
  'materialize',
  ...HOSTILE.map(kqlString),
];

describe('fuzz: the engine only ever throws KqlError and only emits one safe SELECT', () => {
  it('random token soup', () => {
    const r = seededRandom(SEED);
    let compiled = 0;
    for (let i = 0; i < 600 * SCALE; i++) {
      const n = 1 + Math.floor(r() * 14);
      const parts: string[] = [];
      if (r() < 0.7) parts.push(['ServiceDesk_CL |', 'ServiceDeskLog_CL |', 'ItsmActionOutcome_CL |'][Math.floor(r() * 3)]);
      for (let j = 0; j < n; j++) parts.push(TOKENS[Math.floor(r() * TOKENS.length)]);
      const kql = parts.join(r() < 0.8 ? ' ' : '');
      for (const d of ['sqlite', 'postgres'] as const) if (!(translateOrKqlError(kql, d) instanceof KqlError)) compiled++;
    }
    assert.ok(compiled > 0, 'some token soup should compile');
  });

  it('random bytes and unicode', () => {
    const r = seededRandom(SEED + 1);
    for (let i = 0; i < 150; i++) {
      const len = Math.floor(r() * 80);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(r() < 0.8 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 0xffff));
      translateOrKqlError(s, 'sqlite');
      translateOrKqlError(`ServiceDesk_CL | where ${s}`, 'postgres');
    }
  });

  it('SQL injection in string literals is bound, never inlined', () => {
    for (const h of HOSTILE) {
      const lit = kqlString(h);
      for (const kql of [
        `ServiceDesk_CL | where Title_s == ${lit}`,
        `ServiceDesk_CL | where Title_s has ${lit} or Title_s contains ${lit} or Title_s startswith ${lit} or Title_s endswith ${lit}`,
        `ServiceDesk_CL | where Title_s in (${lit}, "a") | extend x = strcat(Title_s, ${lit}) | project x`,
        `ServiceDesk_CL | extend x = iff(Title_s =~ ${lit}, ${lit}, "b") | summarize count() by x`,
        `let v = ${lit}; ServiceDesk_CL | where Computer == v | render table with (title=${lit})`,
        `ServiceDesk_CL | where Title_s matches regex ${kqlString(h.replace(/[\\()*+?[\]{}^$|.]/g, '\\$&'))}`,
        `ServiceDesk_CL | extend y = split(Title_s, ${lit}) | extend z = tostring(y[0])`,
      ]) {
        for (const d of ['sqlite', 'postgres'] as const) {
          const c = translateOrKqlError(kql, d);
          if (c instanceof KqlError) assert.notEqual(c.code, 'InternalError', `${kql}: ${c.message}`);
        }
      }
    }
  });

  it('SQL injection in identifiers never reaches the SQL text', () => {
    for (const h of HOSTILE.filter((x) => !x.includes("'") && !x.includes('\u0000'))) {
      for (const kql of [
        `ServiceDesk_CL | extend ['${h}'] = 1 | project ['${h}']`,
        `ServiceDesk_CL | project-rename ['${h}'] = Title_s | summarize count() by ['${h}']`,
        `ServiceDesk_CL | summarize ['${h}'] = count() by Computer | sort by ['${h}'] desc`,
        `ServiceDesk_CL | where ['${h}'] == 1`,
        `['${h}'] | count`,
      ]) {
        for (const d of ['sqlite', 'postgres'] as const) translateOrKqlError(kql, d);
      }
    }
  });

  // How fast the front end refuses them belongs in bench/ (P5d); here only that each ends in a KqlError or safe SQL.
  it('huge and deeply nested queries fail with KqlError or compile safely', () => {
    const cases = [
      `ServiceDesk_CL | where ${Array.from({ length: 3000 }, (_, i) => `Title_s == "t${i}"`).join(' or ')}`,
      `ServiceDesk_CL ${'| where true '.repeat(400)}| count`,
      `ServiceDesk_CL | where ${'('.repeat(60)}true${')'.repeat(60)}`,
      `ServiceDesk_CL | where ${'('.repeat(5000)}true${')'.repeat(5000)}`,
      `ServiceDesk_CL | where strlen(Title_s) in (${Array.from({ length: 21000 }, () => '1').join(',')})`,
      `ServiceDesk_CL | extend ${Array.from({ length: 400 }, (_, i) => `c${i} = strlen(Title_s) + ${i}`).join(', ')}`,
      `let a0 = ServiceDesk_CL; ${Array.from({ length: 24 }, (_, i) => `let a${i + 1} = a${i} | union a${i};`).join(' ')} a24 | count`,
      `let s0 = "x"; ${Array.from({ length: 30 }, (_, i) => `let s${i + 1} = strcat(s${i}, s${i});`).join(' ')} ServiceDesk_CL | where Title_s == s30`,
      `ServiceDesk_CL ${Array.from({ length: 120 }, (_, i) => `| extend e${i} = strcat(Title_s, "${i}") | where strlen(e${i}) > 0 | take 1000`).join(' ')}`,
      `ServiceDesk_CL | where Title_s == "${'x'.repeat(90_000)}"`,
    ];
    cases.forEach((kql, i) => translateOrKqlError(kql, i % 2 ? 'sqlite' : 'postgres'));
  });
});

// ------------------------------------------------------------------------------------------------
// Generated valid pipelines, executed on both databases: no execution error may surface.

type Col = { name: string; type: 'string' | 'datetime' | 'long' | 'real' | 'bool' | 'dynamic' };
const SD: Col[] = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'ServiceDeskId_s', type: 'string' },
  { name: 'IncidentState_s', type: 'string' },
  { name: 'Priority_s', type: 'string' },
  { name: 'Title_s', type: 'string' },
  { name: 'Computer', type: 'string' },
  { name: 'CreatedDate_t', type: 'datetime' },
  { name: 'ResolvedDate_t', type: 'datetime' },
  { name: 'ServiceDeskWorkItemType_s', type: 'string' },
];

function generate(r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  let cols: Col[] = [...SD];
  let n = 0;
  const of = (type: Col['type']) => cols.filter((c) => c.type === type);
  const s = () => pick(of('string'))?.name;
  const d = () => pick(of('datetime'))?.name;
  const num = () => pick(of('long'))?.name;
  const pred = (): string => {
    const opts: (() => string | undefined)[] = [
      () => s() && `${s()} == "${pick(['New', 'srv-01', 'INC001', ''])}"`,
      () => s() && `${s()} has "${pick(['srv', 'disk', 'API-gateway'])}"`,
      () =>
        s() &&
        `${s()} ${pick(['contains', '!contains', 'startswith', 'endswith', '=~', '!~', 'contains_cs', '!startswith_cs'])} "${pick(['S', 'inc', '01', 'x'])}"`,
      () => d() && `${d()} > ago(${1 + Math.floor(r() * 30)}d)`,
      () => s() && `isnotempty(${s()})`,
      () => d() && `isnull(${d()})`,
      () => s() && `${s()} in~ ("new", "closed")`,
      () => num() && `${num()} between (1 .. 20)`,
      () => s() && `${s()} matches regex "^[A-Z]+0*1"`,
      () => s() && `not(${s()} == "x")`,
    ];
    for (let i = 0; i < 10; i++) {
      const p = pick(opts)();
      if (p) return p;
    }
    return 'true';
  };
  const expr = (): [string, Col['type']] | undefined => {
    const opts: (() => [string, Col['type']] | undefined)[] = [
      () => (s() ? [`strlen(${s()})`, 'long'] : undefined),
      () => (s() ? [`tolower(${s()})`, 'string'] : undefined),
      () => (d() ? [`bin(${d()}, 1h)`, 'datetime'] : undefined),
      () => (d() ? [`datetime_diff("day", now(), ${d()})`, 'long'] : undefined),
      () => (d() ? [`format_datetime(${d()}, "yyyy-MM-dd HH:mm")`, 'string'] : undefined),
      () => (d() ? [`startofweek(${d()})`, 'datetime'] : undefined),
      () => [`iff(${pred()}, 1, 2)`, 'long'],
      () => (s() ? [`strcat(${s()}, "-", ${s()})`, 'string'] : undefined),
      () => (s() ? [`case(${pred()}, "a", ${s()})`, 'string'] : undefined),
      () => (s() ? [`coalesce(${s()}, "none")`, 'string'] : undefined),
      () => (s() ? [`substring(${s()}, 1, 3)`, 'string'] : undefined),
      () => (s() ? [`toupper(trim(" ", ${s()}))`, 'string'] : undefined),
      () => (num() ? [`round(${num()} * 1.5, 1)`, 'real'] : undefined),
      () => (num() ? [`bin(${num()}, 5)`, 'long'] : undefined),
      () => (s() ? [`toint(substring(${s()}, 4))`, 'long'] : undefined),
      () => (s() ? [`tostring(split(${s()}, "-")[0])`, 'string'] : undefined),
    ];
    for (let i = 0; i < 10; i++) {
      const e = pick(opts)();
      if (e) return e;
    }
    return undefined;
  };
  const parts = ['ServiceDesk_CL'];
  const steps = 1 + Math.floor(r() * 6);
  for (let i = 0; i < steps && cols.length; i++) {
    const k = r();
    if (k < 0.2) parts.push(`where ${pred()}`);
    else if (k < 0.38) {
      const e = expr();
      if (!e) continue;
      const name = `x${n++}`;
      parts.push(`extend ${name} = ${e[0]}`);
      cols.push({ name, type: e[1] });
    } else if (k < 0.48) {
      const chosen = cols.filter(() => r() < 0.5);
      if (!chosen.length) continue;
      parts.push(`project ${chosen.map((c) => c.name).join(', ')}`);
      cols = chosen;
    } else if (k < 0.66) {
      const key = pick([s(), d() && `bin(${d()}, 1d)`].filter((x): x is string => !!x));
      const keyName = key?.startsWith('bin(') ? key.slice(4, key.indexOf(',')) : key;
      const keyType: Col['type'] = key?.startsWith('bin(') ? 'datetime' : 'string';
      const aggs: [string, Col][] = [];
      const aggOpts: (() => [string, Col] | undefined)[] = [
        () => ['c = count()', { name: 'c', type: 'long' }],
        () => (s() ? [`dc = dcount(${s()})`, { name: 'dc', type: 'long' }] : undefined),
        () => [`ci = countif(${pred()})`, { name: 'ci', type: 'long' }],
        () => (d() ? [`mx = max(${d()})`, { name: 'mx', type: 'datetime' }] : undefined),
        () => (s() ? [`mn = min(${s()})`, { name: 'mn', type: 'string' }] : undefined),
        () => (s() ? [`st = make_set(${s()})`, { name: 'st', type: 'dynamic' }] : undefined),
        () => (num() ? [`sm = sum(${num()})`, { name: 'sm', type: 'long' }] : undefined),
        () => (num() ? [`av = avg(${num()})`, { name: 'av', type: 'real' }] : undefined),
        () => (num() ? [`p9 = percentile(${num()}, 90)`, { name: 'p9', type: 'long' }] : undefined),
      ];
      for (let j = 0; j < 1 + Math.floor(r() * 3); j++) {
        const a = pick(aggOpts)();
        if (a && !aggs.some((x) => x[1].name === a[1].name)) aggs.push(a);
      }
      if (r() < 0.3 && d() && key) {
        const keep = cols.filter((c) => c.name !== keyName);
        parts.push(`summarize ${[...aggs.map((a) => a[0]), `arg_max(${d()}, *)`].join(', ')} by ${key}`);
        cols = [{ name: keyName as string, type: keyType }, ...aggs.map((a) => a[1]), ...keep.filter((c) => !aggs.some((a) => a[1].name === c.name))];
      } else {
        if (!aggs.length || !key) continue;
        parts.push(`summarize ${aggs.map((a) => a[0]).join(', ')} by ${key}`);
        cols = [{ name: keyName as string, type: keyType }, ...aggs.map((a) => a[1])];
      }
    } else if (k < 0.74) {
      const c = pick(cols);
      if (c.type === 'dynamic') continue;
      parts.push(`sort by ${c.name} ${pick(['asc', 'desc', 'asc nulls last', ''])}`);
    } else if (k < 0.8) {
      const c = pick(cols);
      if (c.type === 'dynamic') continue;
      parts.push(`top ${1 + Math.floor(r() * 5)} by ${c.name}`);
    } else if (k < 0.83) parts.push(`take ${Math.floor(r() * 6)}`);
    else if (k < 0.845) {
      const away = cols.filter(() => r() < 0.3);
      if (!away.length || away.length === cols.length) continue;
      parts.push(`project-away ${away.map((c) => c.name).join(', ')}`);
      cols = cols.filter((c) => !away.includes(c));
    } else if (k < 0.86) {
      const c = pick(cols);
      const name = `r${n++}`;
      parts.push(`project-rename ${name} = ${c.name}`);
      cols = cols.map((x) => (x === c ? { ...x, name } : x));
    } else if (k < 0.9) {
      const chosen = cols.filter((c) => c.type !== 'dynamic' && r() < 0.4);
      if (!chosen.length) continue;
      parts.push(`distinct ${chosen.map((c) => c.name).join(', ')}`);
      cols = chosen;
    } else if (k < 0.95) {
      const key = s();
      if (!key) continue;
      parts.push(`join kind=${pick(['inner', 'leftouter', 'innerunique'])} (ItsmActionOutcome_CL | project ${key} = WorkItemNumber_s, Operation_s) on ${key}`);
      cols = [...cols, { name: `${key}1`, type: 'string' }, { name: 'Operation_s', type: 'string' }];
      break;
    } else {
      parts.push('count');
      cols = [{ name: 'Count', type: 'long' }];
    }
  }
  return parts.join(' | ');
}

/** Rows as a comparable multiset: sorted rows, sorted arrays, reals to 9 significant digits. */
function canonical(rows: unknown[][]): unknown[][] {
  const norm = rows.map((r) =>
    r.map((v) => {
      if (typeof v === 'number' && !Number.isInteger(v)) return Number(v.toPrecision(9));
      if (typeof v === 'string' && v.startsWith('[')) {
        try {
          return JSON.stringify((JSON.parse(v) as unknown[]).map((x) => JSON.stringify(x)).sort());
        } catch {
          return v;
        }
      }
      return v;
    }),
  );
  return norm.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

describe('fuzz: generated valid pipelines run on both databases without execution errors', () => {
  let sqlite: TestRunner;
  let pg: TestRunner | string;
  before(async () => {
    sqlite = createSqliteTestRunner();
    await loadFixtures(sqlite);
    pg = await tryPgTestRunner();
    if (typeof pg !== 'string') await loadFixtures(pg);
  });
  after(async () => {
    await sqlite.close();
    if (typeof pg !== 'string') await pg.close();
  });

  it('generated pipelines', async () => {
    const r = seededRandom(SEED + 2);
    let ran = 0;
    for (let i = 0; i < 250 * SCALE; i++) {
      const kql = generate(r);
      const runners = [sqlite, ...(typeof pg !== 'string' && i % 2 === 0 ? [pg] : [])];
      const results: string[] = [];
      for (const runner of runners) {
        try {
          const res = await runKql(runner, 'default', kql, { now: NOW });
          ran++;
          results.push(JSON.stringify(canonical(res.tables[0].rows)));
        } catch (e) {
          if (!(e instanceof KqlError)) throw new Error(`non-KqlError on ${runner.dialect} for ${kql}: ${String(e)}`, { cause: e });
          // The generator only uses supported features; only its own typing slips (Kusto semantic errors) are tolerated.
          assert.equal(e.code, 'SemanticError', `${e.code} on ${runner.dialect} for ${kql}: ${e.message}`);
          results.push(e.code);
        }
      }
      // take/top/innerunique/arg_max pick arbitrary rows among ties: only deterministic queries are compared.
      if (results.length === 2 && !/take|top|innerunique|arg_m/.test(kql))
        assert.equal(results[0], results[1], `results differ between SQLite and PostgreSQL for ${kql}`);
    }
    assert.ok(ran > 200 * SCALE, `only ${ran} generated queries ran`);
    for (const sql of [...sqlite.executed, ...(typeof pg !== 'string' ? pg.executed : [])]) assert.match(sql, /^SELECT /);
  });
});
