/**
 * PNG and JPEG decoding and the channel conversion, against Pillow's own reading of the same files
 * (test/fixtures/data/make-image-fixture.py): grey by convert('L'), resized by Image.BILINEAR.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/runtime/errors.js';
import { decodeImage, imageFilesIn, readImageFile } from '../../../src/runtime/data/image-file.js';
import { convertChannels, luma, resizeImages } from '../../../src/runtime/data/preprocess.js';

const FIXTURES = 'test/fixtures/data';
const pil = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'image-pil.json'), 'utf8')) as {
  height: number;
  width: number;
  rgb: number[];
  grey: number[];
  grey8x8: number[];
  rgb8x8: number[];
  jpegRgb: number[];
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-image-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A PNG of `width`x`height` RGBA pixels given by `pixel(x, y)`. */
export function pngOf(width: number, height: number, pixel: (x: number, y: number) => number[]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) png.data.set(pixel(x, y), 4 * (y * width + x));
  return PNG.sync.write(png);
}

describe('decodeImage', () => {
  it("reads an RGB PNG as Pillow does: the same planes, the same luma (convert('L')), the same resize", () => {
    const image = readImageFile(path.join(FIXTURES, 'image-rgb.png'));
    expect(image).toMatchObject({ count: 1, channels: 3, height: pil.height, width: pil.width });
    expect(Array.from(image.pixels)).toEqual(pil.rgb);
    const grey = convertChannels(image, 1);
    expect(Array.from(grey.pixels)).toEqual(pil.grey);
    expect(Array.from(resizeImages(grey, 8, 8).pixels)).toEqual(pil.grey8x8);
    expect(Array.from(resizeImages(image, 8, 8).pixels)).toEqual(pil.rgb8x8);
  });

  it("reads a 4:4:4 JPEG within 2 levels of Pillow's libjpeg (jpeg-js's IDCT rounds differently)", () => {
    const image = readImageFile(path.join(FIXTURES, 'image-rgb.jpg'));
    expect(image).toMatchObject({ channels: 3, height: pil.height, width: pil.width });
    const diffs = Array.from(image.pixels, (v, i) => Math.abs(v - (pil.jpegRgb[i] as number)));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2);
  });

  it('takes an image whose pixels all have R = G = B as grey, and drops alpha', () => {
    const bytes = pngOf(3, 2, (x, y) => [x * 50 + y, x * 50 + y, x * 50 + y, x === 0 ? 0 : 255]);
    const image = decodeImage(bytes, 'grey.png');
    expect(image).toMatchObject({ channels: 1, height: 2, width: 3 });
    expect(Array.from(image.pixels)).toEqual([0, 50, 100, 1, 51, 101]);
    const rgb = jpeg.encode(
      { width: 2, height: 1, data: Buffer.from([200, 10, 10, 255, 10, 200, 10, 255]) },
      100,
    );
    expect(decodeImage(rgb.data, 'red-green.jpg').channels).toBe(3);
  });

  it('names the file that is not a PNG or JPEG, or that cannot be decoded', () => {
    expect(() => decodeImage(Buffer.from('hello world'), 'notes.png')).toThrow(
      new DataError(
        'notes.png: not a PNG or JPEG image (it starts with the bytes 68 65 6c 6c 6f 20 77 6f)',
        'notes.png',
        0,
      ),
    );
    expect(() => decodeImage(new Uint8Array(0), 'empty.png')).toThrow(
      'empty.png: not a PNG or JPEG image (it is empty)',
    );
    const broken = Buffer.concat([pngOf(2, 2, () => [1, 2, 3, 255]).subarray(0, 40)]);
    expect(() => decodeImage(broken, 'cut.png')).toThrow(/^cut\.png: cannot decode the PNG image: /);
    expect(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2]), 'cut.jpg')).toThrow(
      /^cut\.jpg: cannot decode the JPEG image: /,
    );
  });
});

describe('luma and channel conversion', () => {
  it("is Pillow's ITU-R 601-2 in 16-bit fixed point", () => {
    expect([luma(255, 255, 255), luma(0, 0, 0), luma(255, 0, 0), luma(0, 255, 0), luma(0, 0, 255)]).toEqual([
      255, 0, 76, 150, 29,
    ]);
    for (let g = 0; g < 256; g++) expect(luma(g, g, g)).toBe(g);
  });

  it('repeats a grey plane into R, G and B, and converts float images in float32', () => {
    const grey = { count: 1, channels: 1, height: 1, width: 2, pixels: Uint8Array.of(7, 9) };
    expect(Array.from(convertChannels(grey, 3).pixels)).toEqual([7, 9, 7, 9, 7, 9]);
    const float = { count: 1, channels: 3, height: 1, width: 1, pixels: Float32Array.of(1, 0.5, 0) };
    expect(Array.from(convertChannels(float, 1).pixels)).toEqual([Math.fround(0.299 + 0.5 * 0.587)]);
  });
});

describe('imageFilesIn', () => {
  it('lists PNG and JPEG files by extension in any case, sorted by name, without folders', () => {
    for (const name of ['b.PNG', 'a.jpg', 'c.jpeg', 'notes.txt', 'B.png'])
      fs.writeFileSync(path.join(tmp, name), '');
    fs.mkdirSync(path.join(tmp, 'd.png'));
    expect(imageFilesIn(tmp).map((f) => path.basename(f))).toEqual(['B.png', 'a.jpg', 'b.PNG', 'c.jpeg']);
  });
});
