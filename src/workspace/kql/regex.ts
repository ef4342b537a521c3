/**
 * User regular expressions (`matches regex`, `extract`, `replace_regex`, `parse kind=regex`, …).
 * Kusto's regular expressions are RE2: linear time, no backreferences, no lookaround. On SQLite we run
 * them with `re2js` (a port of RE2, linear time), so no pattern can backtrack catastrophically.
 * PostgreSQL runs regexes inside the server with its own engine (Spencer's ARE, POSIX leftmost-longest);
 * there the pattern is translated token by token into ARE with RE2's meaning, and refused where the
 * meaning would differ. `statement_timeout` stays the hard stop there.
 */
import { RE2JS } from 're2js';

export const MAX_REGEX_LENGTH = 1000;

const CACHE_SIZE = 256;
const cache = new Map<string, RE2JS>();

/** Compile an RE2 pattern (cached). Throws on invalid syntax. */
export function re2(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, re);
  }
  return re;
}

/** Why a pattern is refused (on either database), or null when it is acceptable. */
export function regexProblem(pattern: string, forCaptures = false): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) return `regular expressions longer than ${MAX_REGEX_LENGTH} characters are not supported`;
  // re2js extends RE2 with lookbehind; Kusto's RE2 has none.
  if (/\(\?<[=!]/.test(pattern) || /\(\?[=!]/.test(pattern)) return 'lookaround in regular expressions is not supported (Kusto uses RE2 syntax)';
  try {
    re2(pattern);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : 'invalid syntax';
    return `invalid regular expression ${JSON.stringify(pattern.slice(0, 60))}: ${why} (Kusto uses RE2 syntax)`;
  }
  const pg = translateToPostgres(pattern, forCaptures);
  return typeof pg === 'string' ? null : pg.problem;
}

const RE2_CLASS: Record<string, string> = {
  d: '0-9',
  w: '0-9A-Za-z_',
  s: '\\t\\n\\f\\r ',
};

/**
 * RE2 pattern → PostgreSQL ARE with the same matches, or the reason it cannot be translated.
 * `forCaptures`: the pattern's match extent or groups are used (extract, replace, parse): ARE picks
 * the leftmost-longest match and treats lazy quantifiers per whole expression, so alternation and lazy
 * quantifiers are refused there (a plain yes/no match is the same under both rules).
 */
export function translateToPostgres(pattern: string, forCaptures = false): string | { problem: string } {
  const refuse = (what: string) => ({ problem: `${what} in a regular expression is not supported on PostgreSQL` });
  let i = 0;
  let out = '';
  let dotAll = false;
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    if (lead[1].includes('U')) return refuse("the flag 'U'");
    dotAll = lead[1].includes('s');
    const are = (lead[1].includes('i') ? 'i' : '') + (lead[1].includes('m') ? 'w' : '');
    if (are) out += `(?${are})`;
    i = lead[0].length;
  }
  let inClass = false;
  let afterQuantifier = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (inClass || '*+?}'.indexOf(c) < 0) afterQuantifier = false;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (RE2_CLASS[n.toLowerCase()]) {
        const body = RE2_CLASS[n.toLowerCase()];
        const negated = n !== n.toLowerCase();
        if (inClass) {
          if (negated) return refuse(`'\\${n}' inside brackets`);
          out += body;
        } else out += negated ? `[^${body}]` : `[${body}]`;
        i += 2;
        continue;
      }
      if (n === 'b' && !inClass) out += '\\y';
      else if (n === 'B' && !inClass) out += '\\Y';
      else if (n === 'z') out += '\\Z';
      else if (n === 'A') out += '\\A';
      else if (n === 'x') {
        const m = /^\\x(\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(pattern.slice(i));
        if (!m) return refuse("'\\x' escape");
        out += '\\U' + (m[2] ?? m[3]).padStart(8, '0');
        i += m[0].length;
        continue;
      } else if ('pPQECzZ0123456789'.includes(n)) return refuse(`'\\${n}'`);
      else if (/[A-Za-z]/.test(n) && !'ntrfva'.includes(n)) return refuse(`'\\${n}'`);
      else out += '\\' + n;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === ']' && !/\[\^?$/.test(out)) inClass = false;
      if (c === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end < 0) return refuse('bracket expression');
        out += pattern.slice(i, end + 2);
        i = end + 2;
        continue;
      }
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      i++;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const named = /^\(\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(pattern.slice(i));
      if (named) {
        out += '(';
        i += named[0].length;
        continue;
      }
      if (pattern[i + 2] === ':') {
        out += '(?:';
        i += 3;
        continue;
      }
      return refuse('a flag group after the start');
    }
    if (c === '.') {
      out += dotAll ? '.' : '[^\\n]';
      i++;
      continue;
    }
    if (forCaptures && c === '|') return refuse("alternation '|' in a pattern whose match or groups are used");
    if (forCaptures && c === '?' && afterQuantifier) return refuse('a lazy quantifier in a pattern whose match or groups are used');
    afterQuantifier = '*+?}'.includes(c) && !afterQuantifier;
    out += c;
    i++;
    continue;
  }
  return out;
}

/** `translateToPostgres` that throws the refusal (callers have checked the pattern already). */
export function postgresRegex(pattern: string, forCaptures = false): string {
  const t = translateToPostgres(pattern, forCaptures);
  if (typeof t !== 'string') throw new Error(t.problem);
  return t;
}
