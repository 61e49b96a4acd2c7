/**
 * `folder:DIR`, torchvision's ImageFolder: one subfolder per class, the sorted folder names being classes 0..K-1,
 * each holding PNG or JPEG images (`image-file.ts`). Every image is converted to the asked-for channels (or, when
 * none are asked for, to RGB if any image has colour and grey otherwise), then resized to size x size with
 * Pillow's bilinear filter (torchvision's `Resize((size, size))`: images of a folder differ in size, and a
 * network takes one).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { imageFilesIn, readImageFile } from './image-file.js';
import { convertChannels, resizeImages } from './preprocess.js';
import type { RawImages, RawSet } from './types.js';

/** An image folder read: every image in class order, then file order, and the classes' names. */
export interface ImageFolder {
  readonly set: RawSet;
  readonly classNames: readonly string[];
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The class folders of `dir`, sorted by name (code units, as Python's sorted()); folders whose name starts with a
 * dot (`.ipynb_checkpoints`) are not classes. Throws a {@link DataError} when `dir` is not a folder of folders.
 */
export function classFolders(dir: string): string[] {
  if (!isFolder(dir))
    throw new DataError(
      `${dir}: no such folder (folder:DIR needs a folder with one subfolder per class)`,
      dir,
    );
  const names = fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.') && isFolder(path.join(dir, n)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0)
    throw new DataError(`${dir}: no class folders in it (folder:DIR needs one subfolder per class)`, dir);
  return names;
}

/**
 * Reads the image folder `dir` for a network of `classes` classes: each image converted to `channels` (1 or 3;
 * undefined: as described in the file comment) and resized to `size` x `size`. A {@link DataError} names any
 * class folder without images and any file that is not a readable PNG or JPEG.
 */
export function readImageFolder(
  dir: string,
  size: number,
  classes: number,
  channels: number | undefined,
): ImageFolder {
  const classNames = classFolders(dir);
  if (classNames.length > classes)
    throw new DataError(
      `${dir}: ${classNames.length} class folders (${classNames.join(', ')}), but the network has ${classes} classes`,
      dir,
    );
  const images: RawImages[] = [];
  const labels: number[] = [];
  classNames.forEach((name, label) => {
    const files = imageFilesIn(path.join(dir, name));
    if (files.length === 0)
      throw new DataError(
        `${path.join(dir, name)}: no PNG or JPEG images in this class folder (.png, .jpg, .jpeg)`,
        path.join(dir, name),
      );
    for (const file of files) {
      const decoded = readImageFile(file);
      // Converted before resizing, as torchvision's loader converts before its transforms run.
      const converted = channels === undefined ? decoded : convertChannels(decoded, channels);
      images.push(resizeImages(converted, size, size));
      labels.push(label);
    }
  });
  // Repeating a grey plane commutes with resizing, so a folder with colour makes every image RGB exactly here.
  const want = channels ?? (images.some((i) => i.channels === 3) ? 3 : 1);
  const plane = size * size;
  const pixels = new Uint8Array(images.length * want * plane);
  images.forEach((image, i) => pixels.set(convertChannels(image, want).pixels, i * want * plane));
  return {
    set: {
      images: { count: images.length, channels: want, height: size, width: size, pixels },
      labels: Uint8Array.from(labels),
    },
    classNames,
  };
}
