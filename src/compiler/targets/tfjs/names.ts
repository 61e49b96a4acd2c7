/**
 * Layer names. tfjs accepts dots in layer names but only names matching /^[A-Za-z0-9][-A-Za-z0-9._/]*$/, so an
 * IR path is used as is when it is made of letters, digits, dots and underscores (every path a spec can
 * produce today), and is otherwise escaped reversibly: each other UTF-16 unit, a leading '.' or '_', and every
 * '-' become `-XXXX` (4 lowercase hex digits). Raw '-' never survives encoding, so helper layers named
 * `<name>-<word>` (word starting with a non-hex letter, e.g. `-pad`, `-nchw`) can never collide with a path.
 */

const PLAIN = /[A-Za-z0-9._]/;
const ALNUM = /[A-Za-z0-9]/;

/** The tfjs layer name of the IR node at `path` (identity for ordinary paths). */
export function tfjsLayerName(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path.charAt(i);
    const keep = i === 0 ? ALNUM.test(ch) : PLAIN.test(ch);
    out += keep ? ch : '-' + path.charCodeAt(i).toString(16).padStart(4, '0');
  }
  return out;
}

/** The IR path a layer name encodes, or undefined when `name` is not an encoded path (e.g. a helper layer). */
export function irPathOfLayerName(name: string): string | undefined {
  let out = '';
  for (let i = 0; i < name.length;) {
    const ch = name.charAt(i);
    if (ch === '-') {
      const hex = name.slice(i + 1, i + 5);
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
export function helperLayerName(owner: string, role: 'pad' | 'nhwc' | 'nchw'): string {
  return `${owner}-${role}`;
}
