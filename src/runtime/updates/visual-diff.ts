import fsp from 'node:fs/promises';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

/** Colours the area one screenshot has and the other lacks, different in each: it always counts. */
const PAD_BEFORE = [255, 0, 255, 255] as const;
const PAD_AFTER = [0, 255, 0, 255] as const;

/**
 * How far two colours may be apart (pixelmatch's perceptual distance, 0..1) and still be the
 * same pixel: its default, which ignores anti-aliasing and JPEG-like noise but not a new element.
 */
const COLOUR_TOLERANCE = 0.1;

/** `image` on a canvas of `width`×`height`, the uncovered area filled with `pad`. */
function onCanvas(image: PNG, width: number, height: number, pad: readonly number[]): Buffer {
  if (image.width === width && image.height === height) return image.data;
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const o = (y * width + x) * 4;
      if (x < image.width && y < image.height) {
        image.data.copy(out, o, (y * image.width + x) * 4, (y * image.width + x) * 4 + 4);
      } else {
        out.set(pad, o);
      }
    }
  }
  return out;
}

export interface PixelDifference {
  /** Fraction of the canvas's pixels that differ, 0..1. */
  difference: number;
  differing: number;
  width: number;
  height: number;
  /** The diff image: differing pixels red over a faded copy of `before`. */
  diff: PNG;
}

/**
 * Compares two screenshots pixel by pixel on a canvas as large as both: a page that grew or
 * shrank counts the area only one of them covers as changed.
 */
export function pixelDifference(before: PNG, after: PNG): PixelDifference {
  const width = Math.max(before.width, after.width);
  const height = Math.max(before.height, after.height);
  const diff = new PNG({ width, height });
  const differing = pixelmatch(
    onCanvas(before, width, height, PAD_BEFORE),
    onCanvas(after, width, height, PAD_AFTER),
    diff.data,
    width,
    height,
    { threshold: COLOUR_TOLERANCE },
  );
  const total = width * height;
  return { difference: total === 0 ? 0 : differing / total, differing, width, height, diff };
}

/** Compares two PNG files and writes the diff image. */
export async function compareFiles(
  beforeFile: string,
  afterFile: string,
  diffFile: string,
): Promise<{ difference: number; width: number; height: number }> {
  const before = PNG.sync.read(await fsp.readFile(beforeFile));
  const after = PNG.sync.read(await fsp.readFile(afterFile));
  const result = pixelDifference(before, after);
  await fsp.writeFile(diffFile, PNG.sync.write(result.diff));
  return { difference: result.difference, width: result.width, height: result.height };
}
