/**
 * User regular expressions (`matches regex`, `trim`). Kusto uses RE2 (linear time); SQLite runs
 * them with JavaScript's backtracking engine on the server thread, so patterns that can backtrack
 * catastrophically (a quantified group that itself contains a quantifier, backreferences) are refused.
 */

export const MAX_REGEX_LENGTH = 1000;

/** Compile with the Unicode flag when the pattern allows it (closest to RE2), else without. */
export function compileRegex(pattern: string, flags = ''): RegExp {
  try {
    return new RegExp(pattern, flags + 'u');
  } catch {
    return new RegExp(pattern, flags);
  }
}

/** Why a pattern is refused, or null when it is acceptable. */
export function regexProblem(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) return `regular expressions longer than ${MAX_REGEX_LENGTH} characters are not supported`;
  try {
    compileRegex(pattern);
  } catch {
    return `invalid regular expression ${JSON.stringify(pattern.slice(0, 60))}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences in regular expressions are not supported';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround in regular expressions is not supported';
  // Star height: a group containing a quantifier (or alternation) followed by a quantifier.
  const stack: { quantified: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ quantified: false });
    else if (c === ')') {
      const g = stack.pop();
      const next = pattern[i + 1];
      const quantifiedAfter = next === '*' || next === '+' || next === '{' || next === '?';
      if (g?.quantified && quantifiedAfter && next !== '?') {
        return 'regular expressions with nested quantifiers (e.g. (a+)+) are not supported';
      }
      if (g?.quantified && stack.length) stack[stack.length - 1].quantified = true;
      if (quantifiedAfter && stack.length) stack[stack.length - 1].quantified = true;
    } else if (c === '*' || c === '+' || c === '{' || c === '|') {
      if (stack.length) stack[stack.length - 1].quantified = true;
    }
  }
  return null;
}
