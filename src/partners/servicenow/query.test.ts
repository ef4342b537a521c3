import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartnerError } from '../partner.ts';
import { and, assertSafeValue, encodeQuery, parseTemplateQuery } from './query.ts';

function rejectsInvalid(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PartnerError);
    assert.equal(err.kind, 'invalid');
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('encoded query builder', () => {
  it('joins AND conditions with ^ and appends ORDERBY clauses', () => {
    assert.equal(
      and([{ field: 'correlation_id', op: '=', value: 'rule-1:alert-2' }], [{ field: 'sys_created_on', desc: true }]),
      'correlation_id=rule-1:alert-2^ORDERBYDESCsys_created_on',
    );
  });

  it('joins groups with ^NQ before the order clauses (keyset page query)', () => {
    const q = encodeQuery({
      groups: [
        [{ field: 'sys_updated_on', op: '>', value: '2026-01-02 03:04:05' }],
        [
          { field: 'sys_updated_on', op: '=', value: '2026-01-02 03:04:05' },
          { field: 'sys_id', op: '>', value: 'abc' },
        ],
      ],
      orderBy: [{ field: 'sys_updated_on' }, { field: 'sys_id' }],
    });
    assert.equal(q, 'sys_updated_on>2026-01-02 03:04:05^NQsys_updated_on=2026-01-02 03:04:05^sys_id>abc^ORDERBYsys_updated_on^ORDERBYsys_id');
  });

  it('writes IN lists comma-separated and ISEMPTY without a value', () => {
    assert.equal(
      and([
        { field: 'name', op: 'IN', value: ['incident', 'change_request'] },
        { field: 'caller_id.user_name', op: 'ISEMPTY' },
      ]),
      'nameINincident,change_request^caller_id.user_nameISEMPTY',
    );
  });

  it('rejects a value containing ^ (query injection) before any request', () => {
    rejectsInvalid(() => and([{ field: 'name', op: '=', value: 'web01^ORnameISNOTEMPTY' }]), /\^/);
  });

  it('rejects values with line breaks or control characters', () => {
    rejectsInvalid(() => and([{ field: 'name', op: '=', value: 'web01\nx' }]), /line break/);
    rejectsInvalid(() => and([{ field: 'name', op: '=', value: 'web01\r' }]), /line break/);
    rejectsInvalid(() => and([{ field: 'name', op: '=', value: 'web\u000001' }]), /control character/);
  });

  it('rejects javascript: values, which ServiceNow would evaluate server-side', () => {
    rejectsInvalid(() => and([{ field: 'caller_id', op: '=', value: 'javascript:gs.getUserID()' }]), /javascript/);
  });

  it('rejects a comma inside an IN list element, which would split it', () => {
    rejectsInvalid(() => and([{ field: 'name', op: 'IN', value: ['a,b'] }]), /,/);
  });

  it('rejects field names that are not plain identifiers', () => {
    rejectsInvalid(() => and([{ field: 'name^ORactive', op: '=', value: 'x' }]), /field name/);
    rejectsInvalid(() => and([{ field: 'name', op: '=', value: 'x' }], [{ field: 'sys_id^x' }]), /field name/);
  });

  it('accepts ordinary values with spaces, colons, slashes and commas', () => {
    assert.doesNotThrow(() => assertSafeValue('/subscriptions/1/resourceGroups/rg/providers/x: a, b'));
  });
});

describe('template parsing', () => {
  it('reads field=value pairs of a sys_template string and ignores the EQ terminator', () => {
    assert.deepEqual(parseTemplateQuery('impact=2^urgency=1^category=network^short_description=Disk ^^ full^EQ'), {
      impact: '2',
      urgency: '1',
      category: 'network',
      short_description: 'Disk ^ full',
    });
  });

  it('keeps "=" inside values and skips non-equality terms', () => {
    assert.deepEqual(parseTemplateQuery('description=a=b^priorityIN1,2'), { description: 'a=b' });
  });
});
