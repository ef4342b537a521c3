/**
 * A small, strict XML reader for criteriaXML: elements, attributes, text, CDATA, comments and the
 * predefined and numeric entities. Namespaces are kept as prefixes; `local` is the name without one.
 */
export interface XmlElement {
  name: string;
  local: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlError extends Error {}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string, at: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (m, ent: string | undefined) => {
    if (!ent) throw new XmlError(`a bare '&' near offset ${at}`);
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    const v = ENTITIES[ent];
    if (v === undefined) throw new XmlError(`unknown entity ${m} near offset ${at}`);
    return v;
  });
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ATTR = /\s*([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (what: string): never => {
    throw new XmlError(`${what} at offset ${pos}`);
  };
  const skipMisc = (): void => {
    for (;;) {
      while (pos < source.length && /\s/.test(source[pos])) pos++;
      if (source.startsWith('<?', pos)) {
        const end = source.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(source);
    if (!m) fail('expected a name');
    pos = NAME.lastIndex;
    return m![0];
  };
  const element = (): XmlElement => {
    if (source[pos] !== '<') fail("expected '<'");
    pos++;
    const name = readName();
    const attrs: Record<string, string> = {};
    for (;;) {
      ATTR.lastIndex = pos;
      const m = ATTR.exec(source);
      if (!m) break;
      attrs[m[1]] = decode(m[3] ?? m[4] ?? '', pos);
      pos = ATTR.lastIndex;
    }
    while (/\s/.test(source[pos] ?? '')) pos++;
    const el: XmlElement = { name, local: name.slice(name.indexOf(':') + 1), attrs, children: [], text: '' };
    if (source.startsWith('/>', pos)) {
      pos += 2;
      return el;
    }
    if (source[pos] !== '>') fail(`malformed start tag <${name}>`);
    pos++;
    for (;;) {
      if (pos >= source.length) fail(`<${name}> is not closed`);
      if (source.startsWith('</', pos)) {
        pos += 2;
        const close = readName();
        if (close !== name) fail(`</${close}> closes <${name}>`);
        while (/\s/.test(source[pos] ?? '')) pos++;
        if (source[pos] !== '>') fail(`malformed end tag </${close}>`);
        pos++;
        return el;
      }
      if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA section');
        el.text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source[pos] === '<') {
        el.children.push(element());
      } else {
        const end = source.indexOf('<', pos);
        const stop = end < 0 ? source.length : end;
        el.text += decode(source.slice(pos, stop), pos);
        pos = stop;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (pos < source.length) fail('content after the root element');
  return root;
}
