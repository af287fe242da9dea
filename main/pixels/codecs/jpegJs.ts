/**
 * The JavaScript JPEG decoder (a pdf.js descendant) that ships with
 * @cornerstonejs/dicom-image-loader as dist/esm/codecs/jpeg.js: the one
 * maintained decoder on npm for 12-bit lossy JPEG (T.81 process 4, DICOM
 * 1.2.840.10008.1.2.4.51), and for 8-bit colour frames whose components must
 * not go through libjpeg's YCbCr guess (an RGB photometric interpretation
 * over a codestream libjpeg would treat as YCbCr, or the reverse). The file
 * is outside the package's exports map, so it is imported by its resolved
 * path.
 *
 * Its 12-bit output carries a level-shift bias: the inverse DCT's result q
 * (scaled by 16) becomes (q + 2056 / bitConversion) >> 4, with bitConversion
 * = 255 / 4095, i.e. floor((q + 33016.9) / 16), where T.81's level shift and
 * rounding give floor((q + 32776) / 16). For an integer q the two differ by
 * exactly 15 (240 / 16), so 15 is taken off (values below 0 become 0); only
 * values the decoder clamped to 4095 (true value 4080..4095) stay inexact.
 * The correction applies only while the shipped file still holds that formula.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FrameInfo } from '../types.js';
import { codecFailure, unsupported } from './frameErrors.js';
import { checkSize, toWords } from './samples.js';

interface JpegImage {
  parse(data: Uint8Array): void;
  width: number;
  height: number;
  components: unknown[];
  colorTransform?: boolean;
  getData(width: number, height: number): Uint8Array;
  getData16(width: number, height: number): Uint16Array;
}

interface Loaded {
  JpegImage: new () => JpegImage;
  twelveBitBias: number;
}

const BIASED_LEVEL_SHIFT = '(q + 2056 / component.bitConversion) >> 4';
let loaded: Promise<Loaded> | undefined;

function loadJpegImage(): Promise<Loaded> {
  loaded ??= (async () => {
    const pkg = createRequire(import.meta.url).resolve('@cornerstonejs/dicom-image-loader/package.json');
    const file = join(dirname(pkg), 'dist', 'esm', 'codecs', 'jpeg.js');
    const module = (await import(pathToFileURL(file).href)) as { default: new () => JpegImage };
    const source = await readFile(file, 'utf8');
    return { JpegImage: module.default, twelveBitBias: source.includes(BIASED_LEVEL_SHIFT) ? 15 : 0 };
  })();
  return loaded;
}

/** `colorTransform`: convert three components from YCbCr to RGB (ignored for one component). */
export async function decodeWithJpegJs(data: Uint8Array, info: FrameInfo, precision: number, colorTransform: boolean): Promise<Buffer> {
  const { JpegImage, twelveBitBias } = await loadJpegImage();
  let values: Uint8Array | Uint16Array;
  try {
    const jpeg = new JpegImage();
    jpeg.parse(data);
    jpeg.colorTransform = colorTransform;
    checkSize(info, 'the JavaScript JPEG decoder', jpeg.height, jpeg.width, jpeg.components.length);
    if (precision > 8) {
      if (jpeg.components.length !== 1) throw unsupported(info.transferSyntaxUID, `${precision}-bit JPEG with ${jpeg.components.length} components (only one is supported)`);
      values = jpeg.getData16(info.columns, info.rows);
      if (precision === 12 && twelveBitBias) values = unbias(values, twelveBitBias);
    } else {
      values = jpeg.getData(info.columns, info.rows);
    }
  } catch (err) {
    throw codecFailure(info.transferSyntaxUID, 'the JavaScript JPEG decoder', err);
  }
  return toWords(values, info, 'the JavaScript JPEG decoder');
}

function unbias(values: Uint16Array, bias: number): Uint16Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 4095) values[i] = v > bias ? v - bias : 0;
  }
  return values;
}
