/**
 * Layer names. tfjs accepts dots in layer names but only names matching /^[A-Za-z0-9][-A-Za-z0-9._/]*$/, so an
 * IR path is used as is when it is made of letters, digits, dots and underscores and starts with a letter or
 * digit (every path a spec can produce today). Otherwise it is escaped reversibly: every other UTF-16 unit,
 * and every '-', becomes `-XXXX` (4 lowercase hex digits); a path whose first character is not a letter or
 * digit has that character escaped too and gets the prefix `x-` (so `x--XXXX...`, which no other path
 * gives). Raw '-' is only ever followed by 4 hex digits (or by '-' right after the prefix), so helper layers
 * named `<name>-<word>` (word starting with a non-hex letter, e.g. `-pad`, `-nchw`) never collide with a path.
 */

const PLAIN = /[A-Za-z0-9._]/;
const ALNUM = /[A-Za-z0-9]/;
const PREFIX = 'x-';

const escapeUnit = (path: string, i: number): string =>
  '-' + path.charCodeAt(i).toString(16).padStart(4, '0');

/** The tfjs layer name of the IR node at `path` (identity for ordinary paths). */
export function tfjsLayerName(path: string): string {
  let out = ALNUM.test(path.charAt(0)) ? '' : PREFIX;
  for (let i = 0; i < path.length; i++) {
    const ch = path.charAt(i);
    out += (i === 0 ? ALNUM.test(ch) : PLAIN.test(ch)) ? ch : escapeUnit(path, i);
  }
  return out;
}

/** The IR path a layer name encodes, or undefined when `name` is not an encoded path (e.g. a helper layer). */
export function irPathOfLayerName(name: string): string | undefined {
  const body = name.startsWith(PREFIX + '-') ? name.slice(PREFIX.length) : name;
  let out = '';
  for (let i = 0; i < body.length;) {
    const ch = body.charAt(i);
    if (ch === '-') {
      const hex = body.slice(i + 1, i + 5);
      if (!/^[0-9a-f]{4}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else if (PLAIN.test(ch)) {
      out += ch;
      i += 1;
    } else return undefined;
  }
  return out.length > 0 && tfjsLayerName(out) === name ? out : undefined;
}

/** The tfjs model name for a network name: as is when tfjs accepts it, else escaped like a path. */
export function tfjsModelName(name: string): string {
  return /^[A-Za-z0-9][-A-Za-z0-9._]*$/.test(name) ? name : tfjsLayerName(name);
}

/** The name of a helper layer that belongs to the layer `owner` (`stem.0-pad`, `input-nhwc`). */
export function helperLayerName(owner: string, role: 'pad' | 'nhwc' | 'nchw' | 'shape'): string {
  return `${owner}-${role}`;
}
