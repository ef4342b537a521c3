import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileCriteria, CriteriaError } from './criteria.ts';
import { classDef, enumByName } from './model.ts';
import { criteria, or, simple } from './test-support.ts';

const incident = classDef('System.WorkItem.Incident')!;

describe('criteria XML compilation', () => {
  test('an empty criteria matches everything', () => {
    assert.deepEqual(compileCriteria(incident, ''), { where: '1', params: [] });
  });

  test('GenericProperty LastModified GreaterEqual takes ISO and US dates as UTC', () => {
    const iso = compileCriteria(incident, criteria(simple('LastModified', 'GreaterEqual', '2026-06-01T10:00:00Z')));
    assert.deepEqual(iso, { where: '"LastModified" >= ?', params: [Date.UTC(2026, 5, 1, 10)] });
    const us = compileCriteria(incident, criteria(simple('LastModified', 'GreaterEqual', '6/1/2026 10:00:00 AM')));
    assert.deepEqual(us.params, [Date.UTC(2026, 5, 1, 10)]);
  });

  test('Or groups, enum values by GUID, name or label, Property paths and generic Id/Name', () => {
    const active = enumByName('IncidentStatusEnum.Active')!;
    const c = compileCriteria(
      incident,
      criteria(or(simple('Status', 'Equal', active.id, false), simple('Status', 'Equal', 'Pending', false), simple('Name', 'Equal', 'IR12'))),
    );
    assert.equal(c.where, '("Status" = ? OR "Status" = ? OR "Id" = ?)');
    assert.deepEqual(c.params, ['IncidentStatusEnum.Active', 'IncidentStatusEnum.Active.Pending', 'IR12']);
    const byGuid = compileCriteria(incident, criteria(simple('Id', 'Equal', 'AAAAAAAA-0000-4000-8000-000000000000')));
    assert.deepEqual(byGuid, { where: '"bme_id" = ?', params: ['aaaaaaaa-0000-4000-8000-000000000000'] });
  });

  test('In, IsNull and Like', () => {
    const inXml = criteria('<Expression><In><GenericProperty>Name</GenericProperty><Values><Value>IR1</Value><Value>IR2</Value></Values></In></Expression>');
    assert.deepEqual(compileCriteria(incident, inXml), { where: '"Id" IN (?, ?)', params: ['IR1', 'IR2'] });
    const unary = criteria(
      '<Expression><UnaryExpression><ValueExpression><GenericProperty>ResolvedDate</GenericProperty></ValueExpression><Operator>IsNull</Operator></UnaryExpression></Expression>',
    );
    assert.deepEqual(compileCriteria(incident, unary), { where: '"ResolvedDate" IS NULL', params: [] });
    assert.deepEqual(compileCriteria(incident, criteria(simple('Title', 'Like', '%disk%'))), { where: '"Title" LIKE ?', params: ['%disk%'] });
  });

  test('malformed XML, unknown properties, operators and values are CriteriaErrors that say what was wrong', () => {
    const bad: [string, RegExp][] = [
      ['<Criteria><Expression></Criteria>', /not well-formed XML: <\/Criteria> closes <Expression>/],
      ['<Filter/>', /must have a <Criteria> root/],
      [criteria(simple('Colour', 'Equal', 'x')), /The property Colour is not valid for class System\.WorkItem\.Incident/],
      [criteria(simple('Title', 'Around', 'x')), /Unknown operator 'Around'/],
      [criteria(simple('Status', 'Equal', 'Sleeping')), /'Sleeping' is not a value of the enumeration IncidentStatusEnum/],
      [criteria(simple('Priority', 'Like', '1')), /Like needs a text property/],
      [criteria('<Expression><Xor/></Expression>'), /Unsupported criteria element <Xor>/],
      ['<Criteria>&bogus;</Criteria>', /unknown entity &bogus;/],
    ];
    for (const [xml, message] of bad)
      assert.throws(
        () => compileCriteria(incident, xml),
        (e: unknown) => e instanceof CriteriaError && message.test(e.message),
        xml,
      );
  });
});
