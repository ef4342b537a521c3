/**
 * SCSM criteria XML (schema `http://Microsoft.EnterpriseManagement.Core.Criteria/`) compiled to a SQL
 * WHERE clause over the sandbox store: SimpleExpression (Equal, NotEqual, Greater, Less, GreaterEqual,
 * LessEqual, Like, NotLike), UnaryExpression (IsNull, IsNotNull), In, and nested And/Or groups.
 * Properties are named by `<GenericProperty>` (Id, Name, DisplayName, LastModified, TimeAdded, or a
 * class property, as the web app's own template passes them) or `<Property>$Context/Property[Type='…']/Name$`.
 */
import type { ClassDef, PropertyDef } from './model.ts';
import { resolveEnum } from './model.ts';
import { parseDotNetDate } from './format.ts';
import type { XmlElement } from './xml.ts';
import { parseXml, XmlError } from './xml.ts';

export class CriteriaError extends Error {}

export interface CompiledCriteria {
  where: string;
  params: unknown[];
}

const COMPARE: Record<string, string> = {
  Equal: '=',
  NotEqual: '<>',
  Greater: '>',
  Less: '<',
  GreaterEqual: '>=',
  LessEqual: '<=',
  Like: 'LIKE',
  NotLike: 'NOT LIKE',
};

interface Column {
  sql: string;
  prop: PropertyDef;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function child(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local);
}

function required(el: XmlElement, local: string): XmlElement {
  const c = child(el, local);
  if (!c) throw new CriteriaError(`<${el.local}> needs a <${local}> element`);
  return c;
}

function columnFor(cls: ClassDef, el: XmlElement): Column {
  const ref = el.children.find((c) => c.local === 'GenericProperty' || c.local === 'Property');
  if (!ref) throw new CriteriaError(`<${el.local}> needs a <GenericProperty> or <Property>`);
  let name = ref.text.trim();
  if (ref.local === 'Property') {
    const m = /\/([A-Za-z_][\w]*)\$\s*$/.exec(name);
    if (!m) throw new CriteriaError(`<Property>${name}</Property> is not of the form $Context/Property[Type='…']/Name$`);
    name = m[1];
  }
  const generic: Record<string, string> = { Id: 'bme_id', Name: cls.key, TimeAdded: 'TimeAdded' };
  if (ref.local === 'GenericProperty' && name in generic) {
    const target = generic[name];
    if (target === 'bme_id') return { sql: quote('bme_id'), prop: { name: 'Id', displayName: 'Id', type: 'guid' } };
    if (target === 'TimeAdded') return { sql: quote('time_added'), prop: { name, displayName: name, type: 'datetime' } };
    name = target;
  }
  const prop = cls.properties.find((p) => p.name === name);
  if (!prop) throw new CriteriaError(`The property ${name} is not valid for class ${cls.name}`);
  return { sql: quote(prop.name), prop };
}

function valueFor(prop: PropertyDef, raw: string): unknown {
  switch (prop.type) {
    case 'datetime': {
      const ms = parseDotNetDate(raw);
      if (ms === null) throw new CriteriaError(`'${raw}' is not a date/time value for ${prop.name}`);
      return ms;
    }
    case 'enum': {
      const v = resolveEnum(prop.enumType!, raw);
      if (!v) throw new CriteriaError(`'${raw}' is not a value of the enumeration ${prop.enumType} (${prop.name})`);
      return v.name;
    }
    case 'int': {
      const n = Number(raw.trim());
      if (!Number.isInteger(n)) throw new CriteriaError(`'${raw}' is not an integer value for ${prop.name}`);
      return n;
    }
    case 'bool': {
      const t = raw.trim().toLowerCase();
      if (t !== 'true' && t !== 'false') throw new CriteriaError(`'${raw}' is not a boolean value for ${prop.name}`);
      return t === 'true' ? 1 : 0;
    }
    case 'guid':
      return raw.trim().toLowerCase();
    default:
      return raw;
  }
}

function compileExpression(cls: ClassDef, expr: XmlElement, params: unknown[]): string {
  const inner = expr.children[0];
  if (!inner || expr.children.length !== 1) throw new CriteriaError('<Expression> must hold exactly one expression');
  switch (inner.local) {
    case 'And':
    case 'Or': {
      const parts = inner.children.filter((c) => c.local === 'Expression').map((c) => compileExpression(cls, c, params));
      if (parts.length === 0) throw new CriteriaError(`<${inner.local}> needs at least one <Expression>`);
      return `(${parts.join(inner.local === 'And' ? ' AND ' : ' OR ')})`;
    }
    case 'SimpleExpression': {
      const col = columnFor(cls, required(inner, 'ValueExpressionLeft'));
      const opName = required(inner, 'Operator').text.trim();
      const op = COMPARE[opName];
      if (!op) throw new CriteriaError(`Unknown operator '${opName}' in <SimpleExpression>`);
      const right = required(inner, 'ValueExpressionRight');
      const raw = required(right, 'Value').text;
      if ((op === 'LIKE' || op === 'NOT LIKE') && col.prop.type !== 'string') {
        throw new CriteriaError(`${opName} needs a text property; ${col.prop.name} is ${col.prop.type}`);
      }
      params.push(valueFor(col.prop, raw));
      return `${col.sql} ${op} ?`;
    }
    case 'UnaryExpression': {
      const col = columnFor(cls, required(inner, 'ValueExpression'));
      const opName = required(inner, 'Operator').text.trim();
      if (opName === 'IsNull') return `${col.sql} IS NULL`;
      if (opName === 'IsNotNull') return `${col.sql} IS NOT NULL`;
      throw new CriteriaError(`Unknown operator '${opName}' in <UnaryExpression>`);
    }
    case 'In': {
      const col = columnFor(cls, inner);
      const values = required(inner, 'Values').children.filter((c) => c.local === 'Value');
      if (values.length === 0) return '0';
      for (const v of values) params.push(valueFor(col.prop, v.text));
      return `${col.sql} IN (${values.map(() => '?').join(', ')})`;
    }
    default:
      throw new CriteriaError(`Unsupported criteria element <${inner.local}>`);
  }
}

/** Compiles a criteriaXML text for a class; an empty text matches everything. */
export function compileCriteria(cls: ClassDef, xml: string | undefined | null): CompiledCriteria {
  if (!xml || !xml.trim()) return { where: '1', params: [] };
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) throw new CriteriaError(`criteriaXML is not well-formed XML: ${e.message}`);
    throw e;
  }
  if (root.local !== 'Criteria') throw new CriteriaError(`criteriaXML must have a <Criteria> root, not <${root.local}>`);
  const expr = required(root, 'Expression');
  const params: unknown[] = [];
  return { where: compileExpression(cls, expr, params), params };
}
