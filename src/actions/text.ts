/**
 * Fitting text into partner field limits without ever cutting inside a character: cuts fall on grapheme cluster
 * boundaries (so never inside a UTF-8 sequence, a surrogate pair, an emoji ZWJ sequence or a base+combining
 * mark), with an ellipsis. Lone surrogates in the input are replaced by U+FFFD first, so the output is always
 * well-formed UTF-16 and encodes to valid UTF-8.
 */

/** How a partner counts a field's length. */
export type LengthUnit = 'utf16' | 'codepoint' | 'utf8';

export const ELLIPSIS = '…';

/** A grapheme cluster longer than this (UTF-16 units) may be cut between code points. */
const PATHOLOGICAL_CLUSTER = 32;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replace unpaired surrogates by U+FFFD. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** Length of `s` in the given unit. */
export function measure(s: string, unit: LengthUnit = 'utf16'): number {
  if (unit === 'utf16') return s.length;
  if (unit === 'utf8') return Buffer.byteLength(s, 'utf8');
  let n = 0;
  for (const _c of s) n++;
  return n;
}

function cpLength(cp: number, unit: LengthUnit): number {
  if (unit === 'codepoint') return 1;
  if (unit === 'utf16') return cp > 0xffff ? 2 : 1;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * `text` cut to at most `max` units, ending with `…` when cut. The cut is on a grapheme boundary; only when not
 * even the first grapheme fits and it is pathological (over 32 UTF-16 units, e.g. thousands of combining marks)
 * does it fall back to a code point boundary. `max` ≤ 0 gives ''.
 */
export function truncateText(text: string, max: number, unit: LengthUnit = 'utf16', ellipsis = ELLIPSIS): string {
  const s = wellFormed(text);
  if (max <= 0) return '';
  // UTF-16 length ≥ code point count: a string that fits in UTF-16 units fits in code points without counting.
  const fits = unit === 'utf8' ? measure(s, unit) <= max : s.length <= max || measure(s, unit) <= max;
  if (fits) return s;
  const ell = measure(ellipsis, unit) <= max ? ellipsis : '';
  const budget = max - measure(ell, unit);
  // Only a prefix can be kept. Segmenting just that prefix matters: V8's segment iterator costs O(input length)
  // per step. 2·max+64 UTF-16 units measure more than the budget in every unit, so a cluster split at the end
  // of the window is never reached.
  let window = s.length > 2 * max + 64 ? s.slice(0, 2 * max + 64) : s;
  if (/[\uD800-\uDBFF]$/.test(window)) window = window.slice(0, -1);
  let used = 0;
  let end = 0;
  let firstLength = 0;
  for (const { segment } of segmenter.segment(window)) {
    const len = measure(segment, unit);
    if (end === 0) firstLength = segment.length;
    if (used + len > budget) break;
    used += len;
    end += segment.length;
  }
  if (end === 0 && budget > 0 && firstLength > PATHOLOGICAL_CLUSTER) {
    // Not even the first grapheme fits and it is a pathological one (thousands of combining marks): cut between
    // code points inside it rather than return nothing. Ordinary clusters (emoji ZWJ sequences, flags) stay whole.
    for (const ch of window) {
      const len = cpLength(ch.codePointAt(0) ?? 0, unit);
      if (used + len > budget) break;
      used += len;
      end += ch.length;
    }
  }
  return s.slice(0, end).replace(/\s+$/u, '') + ell;
}

/** One line: control characters and line breaks become spaces, runs of spaces collapse, trimmed. */
export function oneLine(s: string): string {
  return wellFormed(s)
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

/** Multi-line text: C0/C1 controls other than tab and newline removed, CRLF normalized. */
export function cleanMultiline(s: string): string {
  return wellFormed(s)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}
