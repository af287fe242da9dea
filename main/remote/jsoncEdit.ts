/**
 * Sets or removes one property of a JSON-with-comments text (the
 * configuration file) and leaves every other byte as it was: comments, blank
 * lines, the layout of the other entries. jsonc-parser finds the places
 * (parseTree offsets); the edit itself is done here, because jsonc-parser's
 * own formatter reflows the neighbouring lines and moves their trailing
 * comments.
 *   - replacing a value rewrites that value only, indented like its line;
 *   - a new property goes after the object's last one (a comma added right
 *     after that one's value, the new line after its trailing comment);
 *   - removing takes the property's own lines, its comma and its trailing
 *     comment, and the comma before it when it was the last one.
 */
import jsonc from 'jsonc-parser';

export interface JsoncFormat {
  /** One level of indentation ("  ", "\t"). */
  unit: string;
  eol: string;
}

/** Indentation and line ends as the text uses them. */
export function formatOf(text: string): JsoncFormat {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /\n([ \t]+)\S/.exec(text);
  if (indented && indented[1].startsWith('\t')) return { unit: '\t', eol };
  const sizes = [...text.matchAll(/\n( +)\S/g)].map((m) => m[1].length);
  const size = sizes.length > 0 ? Math.max(1, Math.min(...sizes, 8)) : 2;
  return { unit: ' '.repeat(size), eol };
}

function parse(text: string): jsonc.Node {
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !tree || tree.type !== 'object') throw new Error('the text is not a valid JSON object');
  return tree;
}

function lineStart(text: string, offset: number): number {
  const i = text.lastIndexOf('\n', offset - 1);
  return i === -1 ? 0 : i + 1;
}

/** The whitespace that opens the line holding `offset`. */
function indentationAt(text: string, offset: number): string {
  const start = lineStart(text, offset);
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** True when only spaces and tabs precede `offset` on its line. */
function startsLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, offset), offset));
}

/** Skips spaces, tabs and comments (not newlines) from `i`. */
function skipInline(text: string, i: number): number {
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      return i;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end === -1 || text.slice(i, end).includes('\n')) return i;
      i = end + 2;
      continue;
    }
    return i;
  }
}

/** Skips whitespace (newlines included) and comments from `i`. */
function skipAll(text: string, i: number): number {
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) return text.length;
      i = end + 2;
      continue;
    }
    return i;
  }
}

function newlineLength(text: string, i: number): number {
  if (text.startsWith('\r\n', i)) return 2;
  return text[i] === '\n' ? 1 : 0;
}

/** JSON text of `value`, continuation lines indented by `indent`. */
function render(value: unknown, indent: string, format: JsoncFormat): string {
  return JSON.stringify(value, null, format.unit).split('\n').join(format.eol + indent);
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** Sets `path` (keys of nested objects) to `value`, creating the objects on the way. */
export function setProperty(text: string, path: string[], value: unknown, format: JsoncFormat = formatOf(text)): string {
  const tree = parse(text);
  let object = tree;
  for (let depth = 0; depth < path.length; depth++) {
    const key = path[depth];
    const property = object.children?.find((p) => p.children?.[0]?.value === key);
    const last = depth === path.length - 1;
    if (!property) {
      // Build what is missing from here down as one value.
      let nested: unknown = value;
      for (let k = path.length - 1; k > depth; k--) nested = { [path[k]]: nested };
      return appendProperty(text, object, key, nested, format);
    }
    const valueNode = property.children![1];
    if (last) {
      const indent = indentationAt(text, property.offset);
      return splice(text, valueNode.offset, valueNode.offset + valueNode.length, render(value, indent, format));
    }
    if (valueNode.type !== 'object') throw new Error(`${path.slice(0, depth + 1).join('.')} is not an object`);
    object = valueNode;
  }
  throw new Error('empty path');
}

function appendProperty(text: string, object: jsonc.Node, key: string, value: unknown, format: JsoncFormat): string {
  const properties = object.children ?? [];
  if (properties.length > 0) {
    const lastProperty = properties[properties.length - 1];
    let end = lastProperty.offset + lastProperty.length;
    const next = skipAll(text, end);
    const hasComma = text[next] === ',';
    if (!startsLine(text, lastProperty.offset)) {
      // A one-line object: stay on its line.
      const insert = `${hasComma ? '' : ','} ${JSON.stringify(key)}: ${JSON.stringify(value)}`;
      const at = hasComma ? next + 1 : end;
      return splice(text, at, at, insert);
    }
    const indent = indentationAt(text, lastProperty.offset);
    const line = `${indent}${JSON.stringify(key)}: ${render(value, indent, format)}`;
    let out = text;
    if (hasComma) {
      end = next + 1;
    } else {
      out = splice(out, end, end, ',');
      end += 1;
    }
    // After the trailing comment of that line, if the line ends there.
    const after = skipInline(out, end);
    if (newlineLength(out, after) > 0) return splice(out, after, after, `${format.eol}${line}`);
    return splice(out, end, end, `${format.eol}${line}`);
  }
  // An empty object: the property goes between its braces.
  const open = object.offset;
  const close = object.offset + object.length - 1;
  const outer = indentationAt(text, open);
  const indent = outer + format.unit;
  const inside = text.slice(open + 1, close);
  const line = `${indent}${JSON.stringify(key)}: ${render(value, indent, format)}`;
  if (/^\s*$/.test(inside)) return splice(text, open + 1, close, `${format.eol}${line}${format.eol}${outer}`);
  return splice(text, close, close, `${format.eol}${line}${format.eol}${outer}`);
}

/** Removes the property at `path`; the text unchanged when it is not there. */
export function removeProperty(text: string, path: string[]): string {
  const tree = parse(text);
  const node = jsonc.findNodeAtLocation(tree, path);
  if (!node || !node.parent || node.parent.type !== 'property') return text;
  const property = node.parent;
  const object = property.parent!;
  const index = object.children!.indexOf(property);
  const isLast = index === object.children!.length - 1;

  const ownLine = startsLine(text, property.offset);
  let start = ownLine ? lineStart(text, property.offset) : property.offset;
  let end = property.offset + property.length;
  const next = skipAll(text, end);
  const hadComma = text[next] === ',';
  if (hadComma) end = next + 1;
  const tail = skipInline(text, end);
  const newline = newlineLength(text, tail);
  if (ownLine && newline > 0) end = tail + newline;
  else if (newline > 0) end = tail; // keep the line break; the trailing comment goes with the property
  else if (!ownLine) {
    // inline: also take the spaces before it
    while (start > 0 && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
  }

  let out = splice(text, start, end, '');
  if (isLast && !hadComma && index > 0) {
    // The comma after the previous property has nothing to separate any more.
    const previous = object.children![index - 1];
    const comma = skipAll(out, previous.offset + previous.length);
    if (out[comma] === ',' && comma < start) out = splice(out, comma, comma + 1, '');
  }
  return out;
}
