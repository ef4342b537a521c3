import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { previewAction, previewFamilies } from './preview.ts';

describe('ITSM action preview', () => {
  it('renders one draft per payload family with the placeholders substituted', () => {
    const out = previewAction({ WorkItemType: 'Incident', WorkItemData: { short_description: 'X {{alert.rule}} / {{alert.severity}}' } });
    assert.equal(out.length, previewFamilies.length);
    assert.ok(out.length >= 10);
    for (const p of out) {
      assert.ok(p.draft, p.family);
      assert.equal(p.draft.fields.short_description, `X ${p.rule} / ${p.draft.title.match(/^\[(Sev\d)\]/)![1]}`);
      assert.ok(!('correlationKey' in p.draft));
    }
  });

  it('counts one work item per log row when CreateOneWIPerLog is set', () => {
    const [p] = previewAction({ WorkItemType: 'Incident', CreateOneWIPerLog: true, WorkItemData: { description: '{{row.Computer}}' } }, undefined, [
      'azure-common-logsearch',
    ]);
    assert.equal(p.workItems, 2);
    assert.equal(p.draft!.fields.description, 'vm-sql-01');
  });
});
