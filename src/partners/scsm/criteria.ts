/**
 * Builds criteriaXML (schema `http://Microsoft.EnterpriseManagement.Core.Criteria/`) the way the web app's
 * own template does: `<GenericProperty>` name, operator, value — XML-escaped, so a value can never change
 * the shape of the query.
 */
export type CriteriaOperator = 'Equal' | 'NotEqual' | 'Greater' | 'Less' | 'GreaterEqual' | 'LessEqual' | 'Like';

export interface SimpleCondition {
  property: string;
  operator: CriteriaOperator;
  value: string;
}

const NS = 'http://Microsoft.EnterpriseManagement.Core.Criteria/';
const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function simple(c: SimpleCondition): string {
  if (!PROPERTY.test(c.property)) throw new RangeError(`"${c.property}" is not a property name`);
  return (
    `<Expression><SimpleExpression><ValueExpressionLeft><GenericProperty>${c.property}</GenericProperty></ValueExpressionLeft>` +
    `<Operator>${c.operator}</Operator><ValueExpressionRight><Value>${escapeXml(c.value)}</Value></ValueExpressionRight></SimpleExpression></Expression>`
  );
}

/** All conditions must hold (one condition needs no `<And>`). */
export function criteriaXml(conditions: readonly SimpleCondition[]): string {
  if (conditions.length === 0) throw new RangeError('criteria need at least one condition');
  const body = conditions.length === 1 ? simple(conditions[0]) : `<Expression><And>${conditions.map(simple).join('')}</And></Expression>`;
  return `<Criteria xmlns="${NS}">${body}</Criteria>`;
}
