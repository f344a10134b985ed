// A small YAML emitter for JSON-like data (objects, arrays, strings, finite numbers, booleans, null), enough for
// a readable docs/asyncapi.yaml without a YAML dependency. Output is deterministic: keys keep insertion order.
// Strings are plain only when no YAML reading could take them for anything else; multi-line text becomes a
// literal block; everything else is double-quoted with JSON escapes (a JSON string is a valid YAML scalar).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const PLAIN = /^[A-Za-z_$][\w./$-]*$/;
/** Words YAML 1.1 or 1.2 readers turn into booleans or null. */
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;
const INDENT = '  ';

export function toYaml(value: unknown): string {
  const lines: string[] = [];
  if (isObject(value) && Object.keys(value).length > 0) emitObject(value, '', lines);
  else if (Array.isArray(value) && value.length > 0) emitArray(value, '', lines);
  else lines.push(scalar(value as Json, ''));
  return lines.join('\n') + '\n';
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptyCollection(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}

function emitObject(obj: { [key: string]: Json }, indent: string, lines: string[]): void {
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    const head = `${indent}${plainOrQuoted(key)}:`;
    if (isObject(value) && !isEmptyCollection(value)) {
      lines.push(head);
      emitObject(value, indent + INDENT, lines);
    } else if (Array.isArray(value) && value.length > 0) {
      lines.push(head);
      emitArray(value, indent + INDENT, lines);
    } else {
      lines.push(`${head} ${scalar(value, indent + INDENT)}`);
    }
  }
}

function emitArray(items: Json[], indent: string, lines: string[]): void {
  for (const item of items) {
    if ((isObject(item) || Array.isArray(item)) && !isEmptyCollection(item)) {
      // The first line of the nested collection shares the dash's line.
      const nested: string[] = [];
      if (isObject(item)) emitObject(item, indent + INDENT, nested);
      else emitArray(item, indent + INDENT, nested);
      lines.push(`${indent}- ${nested[0].slice(indent.length + INDENT.length)}`);
      for (let i = 1; i < nested.length; i++) lines.push(nested[i]);
    } else {
      lines.push(`${indent}- ${scalar(item, indent + INDENT)}`);
    }
  }
}

/** A scalar (or empty collection) for the end of a `key:` or `-` line; `blockIndent` indents a literal block. */
function scalar(value: Json, blockIndent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to YAML`);
    return String(value);
  }
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'object') return '{}';
  if (isLiteralBlockSafe(value)) {
    const body = value.replace(/\n+$/, '');
    const chomp = value.endsWith('\n') ? '' : '-';
    // A literal block keeps one final newline with `|`; more than one would need `|+`, so those are quoted.
    if (value.length - body.length <= 1)
      return (
        `|${chomp}\n` +
        body
          .split('\n')
          .map((l) => (l === '' ? '' : blockIndent + l))
          .join('\n')
      );
  }
  return plainOrQuoted(value);
}

function isLiteralBlockSafe(text: string): boolean {
  // Leading spaces on the first line would need an indentation indicator; control characters need escapes.
  return text.includes('\n') && !/^[ \n]/.test(text) && !/[\x00-\x08\x0b-\x1f\x7f]/.test(text) && !/[ \t]\n/.test(text);
}

function plainOrQuoted(text: string): string {
  return PLAIN.test(text) && !RESERVED.test(text) ? text : JSON.stringify(text);
}
