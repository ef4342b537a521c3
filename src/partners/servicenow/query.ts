/**
 * Encoded-query builder (`sysparm_query`) with an injection guard: field names must be plain
 * (dot-walked) identifiers, and values carrying query syntax (`^`, line breaks, control characters,
 * `javascript:` server-side expressions, list/range separators where they would split the value) are
 * refused with PartnerError 'invalid' before any request is made.
 */
import { PartnerError } from '../partner.ts';

export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'NOT LIKE' | 'STARTSWITH' | 'ENDSWITH' | 'IN' | 'NOT IN' | 'ISEMPTY' | 'ISNOTEMPTY';

export interface Condition {
  field: string;
  op: Operator;
  /** A list for IN / NOT IN; absent for ISEMPTY / ISNOTEMPTY. */
  value?: string | readonly string[];
}

export interface OrderBy {
  field: string;
  desc?: boolean;
}

/** A query: OR'd groups (`^NQ`) of AND'ed conditions (`^`), then ORDERBY clauses. */
export interface QuerySpec {
  groups: readonly (readonly Condition[])[];
  orderBy?: readonly OrderBy[];
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function assertField(field: string): void {
  if (!FIELD.test(field)) throw new PartnerError('invalid', `"${field}" is not a valid ServiceNow field name`);
}

/** Rejects a user-supplied value that would change the meaning of an encoded query. */
export function assertSafeValue(value: string, what = 'value', extraSeparators = ''): void {
  const reason = unsafeReason(value, extraSeparators);
  if (reason)
    throw new PartnerError(
      'invalid',
      `${what} ${JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value)} cannot be used in a ServiceNow query: ${reason}`,
    );
}

/** Why a value is unsafe in an encoded query, or undefined when it is safe. */
export function unsafeReason(value: string, extraSeparators = ''): string | undefined {
  if (value.includes('^')) return 'it contains "^", the encoded-query separator';
  if (/[\r\n\u2028\u2029]/.test(value)) return 'it contains a line break';
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'it contains a control character';
  if (/^\s*javascript\s*:/i.test(value)) return 'it starts with "javascript:", which ServiceNow would evaluate as a script';
  for (const sep of extraSeparators) if (value.includes(sep)) return `it contains "${sep}", a list separator for this operator`;
  return undefined;
}

function conditionText(c: Condition): string {
  assertField(c.field);
  switch (c.op) {
    case 'ISEMPTY':
    case 'ISNOTEMPTY':
      if (c.value !== undefined && c.value !== '') throw new PartnerError('invalid', `${c.op} takes no value`);
      return `${c.field}${c.op}`;
    case 'IN':
    case 'NOT IN': {
      const list = typeof c.value === 'string' ? [c.value] : (c.value ?? []);
      if (list.length === 0) throw new PartnerError('invalid', `${c.op} on ${c.field} needs at least one value`);
      for (const v of list) assertSafeValue(v, `${c.field} value`, ',');
      return `${c.field}${c.op}${list.join(',')}`;
    }
    default: {
      if (typeof c.value !== 'string') throw new PartnerError('invalid', `${c.op} on ${c.field} needs a single value`);
      assertSafeValue(c.value, `${c.field} value`);
      return `${c.field}${c.op}${c.value}`;
    }
  }
}

export function encodeQuery(spec: QuerySpec): string {
  const groups = spec.groups.filter((g) => g.length > 0).map((g) => g.map(conditionText).join('^'));
  const order = (spec.orderBy ?? []).map((o) => {
    assertField(o.field);
    return `${o.desc ? 'ORDERBYDESC' : 'ORDERBY'}${o.field}`;
  });
  return [groups.join('^NQ'), ...order].filter((p) => p !== '').join('^');
}

/** Shorthand for the common case: AND of conditions, optional order. */
export function and(conditions: readonly Condition[], orderBy?: readonly OrderBy[]): string {
  return encodeQuery({ groups: [conditions], orderBy });
}

/**
 * Parses a stored encoded query of simple `field=value` terms (sys_template.template) into a field map.
 * `^^` is a literal caret; the terminating `EQ` and non-equality terms are ignored.
 */
export function parseTemplateQuery(template: string): Record<string, string> {
  const out: Record<string, string> = {};
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === '^') {
      if (template[i + 1] === '^') {
        cur += '^';
        i++;
      } else {
        parts.push(cur);
        cur = '';
      }
    } else cur += ch;
  }
  parts.push(cur);
  for (const part of parts) {
    if (part === '' || part === 'EQ') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)=(.*)$/s.exec(part);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
