/**
 * How a picture netspec drew says so, in each of its formats, so that `netspec draw --force` replaces its own
 * earlier drawing and never a file someone else made: a comment in SVG and DOT, a tEXt chunk in PNG. Pure: works on
 * bytes, reads no files.
 */

/** The start of the first line of every DOT netspec draws. */
export const DOT_MARKER = '// netspec draw';

/** The comment netspec puts after the XML declaration of every SVG it draws. */
export const SVG_MARKER = '<!-- netspec draw -->';

/** The PNG tEXt chunk netspec adds after IHDR: keyword `Software` (a keyword the PNG spec registers), this text. */
export const PNG_SOFTWARE = 'netspec draw';

/** How many bytes from a file's start {@link isNetspecDrawing} needs to see. */
export const DRAWING_HEAD_BYTES = 4096;

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | undefined;

/** The CRC-32 of PNG chunks (ISO 3309, as zlib's; zlib.crc32 is missing from Node before 20.15). */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const isPng = (bytes: Uint8Array): boolean => PNG_SIGNATURE.every((b, i) => bytes[i] === b);

/** `png` with a tEXt chunk `Software: netspec draw` right after its IHDR chunk. */
export function withPngMarker(png: Uint8Array): Uint8Array {
  if (!isPng(png)) throw new Error('internal: not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const afterIhdr = 8 + 12 + view.getUint32(8);
  const data = new TextEncoder().encode(`Software\u0000${PNG_SOFTWARE}`);
  const chunk = new Uint8Array(12 + data.length);
  const out = new DataView(chunk.buffer);
  out.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode('tEXt'), 4);
  chunk.set(data, 8);
  out.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  const result = new Uint8Array(png.length + chunk.length);
  result.set(png.subarray(0, afterIhdr), 0);
  result.set(chunk, afterIhdr);
  result.set(png.subarray(afterIhdr), afterIhdr + chunk.length);
  return result;
}

/** The tEXt chunks before the image data of the PNG that `head` starts, as `keyword` to text. */
function pngTexts(head: Uint8Array): Map<string, string> {
  const texts = new Map<string, string>();
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const latin1 = new TextDecoder('latin1');
  for (let at = 8; at + 8 <= head.length;) {
    const length = view.getUint32(at);
    const type = latin1.decode(head.subarray(at + 4, at + 8));
    if (type === 'IDAT' || at + 12 + length > head.length) break;
    if (type === 'tEXt') {
      const data = latin1.decode(head.subarray(at + 8, at + 8 + length));
      const zero = data.indexOf('\u0000');
      if (zero > 0) texts.set(data.slice(0, zero), data.slice(zero + 1));
    }
    at += 12 + length;
  }
  return texts;
}

/**
 * True when `head` (the first {@link DRAWING_HEAD_BYTES} bytes of a file, or all of a shorter one) is the start of a
 * picture netspec drew: a PNG with its tEXt chunk, an SVG with its comment near the start, or a DOT whose first line
 * is netspec's.
 */
export function isNetspecDrawing(head: Uint8Array): boolean {
  if (isPng(head)) return pngTexts(head).get('Software') === PNG_SOFTWARE;
  const text = new TextDecoder().decode(head);
  if (text.startsWith(DOT_MARKER)) return true;
  const [declaration = '', second = ''] = text.split('\n', 2);
  return declaration.startsWith('<?xml') && second.trimEnd() === SVG_MARKER;
}
