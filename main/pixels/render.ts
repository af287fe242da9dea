/**
 * Rendering (PS3.18 8.3.5 "Rendered Media Types" and 10.4.1.1.3 / WADO-URI
 * 9.1.2): a DecodedFrame to 8-bit display pixels, then an image/jpeg or
 * image/png. The grayscale pipeline of PS3.3 C.11 (and PS3.4 N.2.1):
 *   stored value (sign and High Bit handled, PS3.3 C.7.6.3.1)
 *   → Modality LUT: the Modality LUT Sequence's table if there is one, else
 *     Rescale Slope/Intercept (PS3.3 C.11.1)
 *   → VOI LUT: window center/width with function LINEAR, LINEAR_EXACT or
 *     SIGMOID (PS3.3 C.11.2.1.2 and C.11.2.1.3), from the request, else the
 *     file's first window, else the file's first VOI LUT Sequence table
 *     (C.11.2.1.1; a window is preferred when the file has both, as most
 *     viewers do), else the min/max of the modality values
 *   → MONOCHROME1 inverted (PS3.3 C.7.6.3.1.2).
 * Colour: RGB passes through (scaled to 8 bits), YBR_FULL converted to RGB
 * (the inverse of the PS3.3 C.7.6.3.1.2 equations), PALETTE COLOR through its
 * Red/Green/Blue Palette Color LUTs (PS3.3 C.7.6.3.1.5-6).
 * Scaling to the viewport and encoding are done by sharp (libvips), a
 * maintained image library; the LUT arithmetic is ours because no library
 * applies DICOM windowing.
 */
import { endianness } from 'node:os';
import sharp from 'sharp';
import { AppError } from '../errors.js';
import type { DecodedFrame, FrameAllocator, ImageSize } from './types.js';

export type VoiFunction = 'linear' | 'linear-exact' | 'sigmoid';

export interface VoiWindow {
  center: number;
  width: number;
  function: VoiFunction;
}

/** One Palette Color LUT (PS3.3 C.7.6.3.1.5): descriptor values and the LUT Data bytes (little endian). */
export interface PaletteLut {
  /** Number of entries (a descriptor value of 0 means 65536). */
  entries: number;
  /** First stored pixel value mapped. */
  firstMapped: number;
  /** Bits per entry: 8 or 16. */
  bits: number;
  data: Buffer;
}

/**
 * A Modality or VOI LUT of a LUT Sequence item (PS3.3 C.11.1.1, C.11.2.1.1):
 * input values below `firstMapped` take the first entry, above the last the last.
 */
export interface DataLut {
  firstMapped: number;
  /** Bits per entry (LUT Descriptor's third value): the VOI LUT's output range is 0 .. 2^bits - 1. */
  bits: number;
  entries: Uint16Array;
  /** Identifies the table's contents (cache key of the word → display tables). */
  key: string;
}

/** What the dataset says about displaying a frame (see renderingAttributes.ts). */
export interface RenderingAttributes {
  rescaleSlope: number;
  rescaleIntercept: number;
  /** The file's first window, if any. */
  window?: VoiWindow;
  /** The Modality LUT Sequence's table: replaces the rescale. */
  modalityLut?: DataLut;
  /** The first VOI LUT Sequence table: used when there is no window. */
  voiLut?: DataLut;
  palette?: { red: PaletteLut; green: PaletteLut; blue: PaletteLut };
}

export const DEFAULT_RENDERING: RenderingAttributes = { rescaleSlope: 1, rescaleIntercept: 0 };

/** `viewport=vw,vh[,sx,sy,sw,sh]` (PS3.18 8.3.5.1.3). */
export interface Viewport {
  width?: number;
  height?: number;
  /** Source region in image pixels; a negative width or height flips the image along that axis. */
  region?: { x: number; y: number; width: number; height: number };
}

export type RenderedMediaType = 'image/jpeg' | 'image/png';

export interface RenderParams {
  mediaType: RenderedMediaType;
  window?: VoiWindow;
  viewport?: Viewport;
  /** JPEG quality 1–100. */
  quality?: number;
}

export const DEFAULT_JPEG_QUALITY = 90;

/** 8-bit display pixels: 1 (grey) or 3 (RGB) channels, interleaved. */
export interface DisplayPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
}

/**
 * The sample values of a frame as numbers: bits above High Bit and below
 * High Bit - Bits Stored + 1 dropped, two's complement when Pixel
 * Representation is 1 (PS3.5 8.1.1, PS3.3 C.7.6.3.1).
 */
export function sampleValues(frame: DecodedFrame): Float64Array {
  const count = frame.rows * frame.columns * frame.samplesPerPixel;
  const out = new Float64Array(count);
  const { bitsAllocated, bitsStored, highBit, pixelRepresentation } = frame;
  const bytes = frame.bytes;
  if (bitsAllocated === 1) {
    if (bytes.length * 8 < count) throw shortFrame(frame, Math.ceil(count / 8));
    for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
    return out;
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new AppError('not-acceptable', `cannot render pixel data with Bits Allocated ${bitsAllocated} (1, 8, 16 or 32 can be rendered)`);
  }
  const size = bitsAllocated / 8;
  if (bytes.length < count * size) throw shortFrame(frame, count * size);
  const shift = Math.max(0, highBit + 1 - bitsStored);
  const stored = Math.min(bitsStored, bitsAllocated);
  const range = 2 ** stored;
  const signBit = range / 2;
  const signed = pixelRepresentation === 1;
  for (let i = 0; i < count; i++) {
    let raw: number;
    if (size === 1) raw = bytes[i]!;
    else if (size === 2) raw = bytes.readUInt16LE(i * 2);
    else raw = bytes.readUInt32LE(i * 4);
    // Arithmetic instead of bit operators: 32-bit values would overflow them.
    let v = Math.floor(raw / 2 ** shift) % range;
    if (signed && v >= signBit) v -= range;
    out[i] = v;
  }
  return out;
}

function shortFrame(frame: DecodedFrame, needed: number): AppError {
  return new AppError('bad-dicom', `decoded frame has ${frame.bytes.length} bytes, ${needed} needed for ${frame.rows}x${frame.columns}x${frame.samplesPerPixel} samples of ${frame.bitsAllocated} bits`);
}

/** The VOI LUT function (PS3.3 C.11.2.1.2.1 LINEAR, C.11.2.1.3.2 LINEAR_EXACT, C.11.2.1.3.1 SIGMOID) to 0..255. */
export function voiFunction(window: VoiWindow): (x: number) => number {
  const { center: c, width: w } = window;
  const yMax = 255;
  switch (window.function) {
    case 'linear': {
      const low = c - 0.5 - (w - 1) / 2;
      const high = c - 0.5 + (w - 1) / 2;
      const span = Math.max(w - 1, Number.EPSILON);
      return (x) => (x <= low ? 0 : x > high ? yMax : ((x - (c - 0.5)) / span + 0.5) * yMax);
    }
    case 'linear-exact': {
      const low = c - w / 2;
      const high = c + w / 2;
      return (x) => (x <= low ? 0 : x > high ? yMax : ((x - c) / w + 0.5) * yMax);
    }
    case 'sigmoid':
      return (x) => yMax / (1 + Math.exp((-4 * (x - c)) / w));
  }
}

function toByte(y: number): number {
  return y <= 0 ? 0 : y >= 255 ? 255 : Math.round(y);
}

/** Stored value of every possible 8- or 16-bit word (the same rules as sampleValues). */
function storedValueTable(frame: DecodedFrame): Int32Array {
  const size = 2 ** frame.bitsAllocated;
  const stored = Math.min(frame.bitsStored, frame.bitsAllocated);
  const shift = Math.max(0, frame.highBit + 1 - stored);
  const range = 2 ** stored;
  const table = new Int32Array(size);
  for (let w = 0; w < size; w++) {
    let v = (w >> shift) & (range - 1);
    if (frame.pixelRepresentation === 1 && v >= range / 2) v -= range;
    table[w] = v;
  }
  return table;
}

/** The frame's 8- or 16-bit words as a typed array (little endian platforms; undefined otherwise). */
function wordsOf(frame: DecodedFrame): Uint8Array | Uint16Array | undefined {
  const count = frame.rows * frame.columns * frame.samplesPerPixel;
  const bytes = frame.bytes;
  if (frame.bitsAllocated === 8) return bytes.length >= count ? new Uint8Array(bytes.buffer, bytes.byteOffset, count) : undefined;
  if (frame.bitsAllocated !== 16 || endianness() !== 'LE' || bytes.length < count * 2) return undefined;
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint16Array(count);
  new Uint8Array(copy.buffer).set(bytes.subarray(0, count * 2));
  return copy;
}

/**
 * Word → display byte tables, kept for the last few pixel formats and windows:
 * the slices of a series share them, so rendering one is a single lookup pass.
 */
const WORD_LUTS = new Map<string, Uint8Array>();
const STORED_VALUE_TABLES = new Map<string, Int32Array>();
const MAX_CACHED_TABLES = 16;

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let value = cache.get(key);
  if (value !== undefined) {
    cache.delete(key); // most recently used last
  } else {
    value = make();
    if (cache.size >= MAX_CACHED_TABLES) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, value);
  return value;
}

function formatKey(frame: DecodedFrame): string {
  return `${frame.bitsAllocated},${frame.bitsStored},${frame.highBit},${frame.pixelRepresentation}`;
}

/** Grayscale (MONOCHROME1/2) to 8-bit grey. */
function greyPixels(frame: DecodedFrame, attrs: RenderingAttributes, requested: VoiWindow | undefined, allocate: FrameAllocator): Buffer {
  const invert = frame.photometricInterpretation === 'MONOCHROME1';
  const count = frame.rows * frame.columns;
  if (count === 0) return Buffer.alloc(0);
  const words = wordsOf(frame);
  const out = allocate(count);
  const window = requested ?? attrs.window;
  if (words) {
    const format = formatKey(frame);
    const table = cached(STORED_VALUE_TABLES, format, () => storedValueTable(frame));
    let voi: Voi | undefined = window ?? attrs.voiLut;
    if (!voi) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < count; i++) {
        const v = table[words[i]!]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      voi = fullRangeWindow(min, max, attrs);
    }
    const v = voi;
    const key = `${format};${modalityKey(attrs)};${voiKey(v)};${invert}`;
    const lut = cached(WORD_LUTS, key, () => {
      const map = displayMapping(v, attrs, invert);
      const bytes = new Uint8Array(table.length);
      for (let w = 0; w < table.length; w++) bytes[w] = map(table[w]!);
      return bytes;
    });
    if (words instanceof Uint16Array) lookup16(words, lut, out, count);
    else lookup8(words, lut, out, count);
    return out;
  }
  const values = sampleValues(frame);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const map = displayMapping(window ?? attrs.voiLut ?? fullRangeWindow(min, max, attrs), attrs, invert);
  if (max - min <= 1 << 20) {
    const lut = new Uint8Array(max - min + 1);
    for (let v = min; v <= max; v++) lut[v - min] = map(v);
    for (let i = 0; i < count; i++) out[i] = lut[values[i]! - min]!;
  } else {
    for (let i = 0; i < count; i++) out[i] = map(values[i]!);
  }
  return out;
}

/** The VOI transformation: a window, or a VOI LUT Sequence table. */
type Voi = VoiWindow | DataLut;

const isLut = (voi: Voi): voi is DataLut => 'entries' in voi;

function voiKey(voi: Voi): string {
  return isLut(voi) ? `lut:${voi.key}` : `${voi.center},${voi.width},${voi.function}`;
}

function modalityKey(attrs: RenderingAttributes): string {
  return attrs.modalityLut ? `lut:${attrs.modalityLut.key}` : `${attrs.rescaleSlope},${attrs.rescaleIntercept}`;
}

/** A LUT's entry for input x (PS3.3 C.11.1.1 / C.11.2.1.1: clamped to the first and last entries). */
export function lutValue(lut: DataLut, x: number): number {
  const index = Math.round(x) - lut.firstMapped;
  return lut.entries[index <= 0 ? 0 : index >= lut.entries.length ? lut.entries.length - 1 : index]!;
}

/** Stored value → modality value: the Modality LUT Sequence's table, else the rescale. */
function modalityFunction(attrs: RenderingAttributes): (v: number) => number {
  const lut = attrs.modalityLut;
  if (lut) return (v) => lutValue(lut, v);
  const slope = attrs.rescaleSlope;
  const intercept = attrs.rescaleIntercept;
  return (v) => v * slope + intercept;
}

// One monomorphic loop per word size: V8 compiles each to a tight typed-array loop.
// 16-bit words, the common case, write four display bytes per 32-bit store
// (little endian host: byte k of the word is pixel k), about twice as fast.
function lookup16(words: Uint16Array, lut: Uint8Array, out: Buffer, count: number): void {
  let done = 0;
  if (out.byteOffset % 4 === 0 && endianness() === 'LE') {
    const quads = count >> 2;
    const out32 = new Uint32Array(out.buffer, out.byteOffset, quads);
    for (let j = 0, i = 0; j < quads; j++, i += 4) {
      out32[j] = lut[words[i]!]! | (lut[words[i + 1]!]! << 8) | (lut[words[i + 2]!]! << 16) | (lut[words[i + 3]!]! << 24);
    }
    done = quads * 4;
  }
  for (let i = done; i < count; i++) out[i] = lut[words[i]!]!;
}

function lookup8(words: Uint8Array, lut: Uint8Array, out: Uint8Array, count: number): void {
  for (let i = 0; i < count; i++) out[i] = lut[words[i]!]!;
}

/** No window nor VOI LUT: the full range of the modality values (LINEAR_EXACT maps min to 0 and max to 255). */
function fullRangeWindow(min: number, max: number, attrs: RenderingAttributes): VoiWindow {
  let a: number;
  let b: number;
  if (attrs.modalityLut) {
    // A table need not be monotonic: the range of its outputs over the stored values present.
    const modality = modalityFunction(attrs);
    a = Infinity;
    b = -Infinity;
    for (let v = min; v <= max; v++) {
      const m = modality(v);
      if (m < a) a = m;
      if (m > b) b = m;
    }
  } else {
    a = min * attrs.rescaleSlope + attrs.rescaleIntercept;
    b = max * attrs.rescaleSlope + attrs.rescaleIntercept;
  }
  return { center: (a + b) / 2, width: Math.max(Math.abs(b - a), Number.EPSILON), function: 'linear-exact' };
}

/** Stored value → display byte: modality transformation, VOI (window or table), MONOCHROME1 inversion. */
function displayMapping(voi: Voi, attrs: RenderingAttributes, invert: boolean): (v: number) => number {
  const modality = modalityFunction(attrs);
  let toDisplay: (x: number) => number;
  if (isLut(voi)) {
    const scale = 255 / (2 ** voi.bits - 1);
    toDisplay = (x) => lutValue(voi, x) * scale;
  } else {
    toDisplay = voiFunction(voi);
  }
  return (v) => {
    const y = toByte(toDisplay(modality(v)));
    return invert ? 255 - y : y;
  };
}

/** RGB samples of any depth to 8 bits. */
function rgbPixels(frame: DecodedFrame): Buffer {
  if (frame.bitsAllocated === 8 && frame.bitsStored === 8) return frame.bytes.subarray(0, frame.rows * frame.columns * 3);
  const values = sampleValues(frame);
  const out = Buffer.allocUnsafe(values.length);
  const scale = 255 / (2 ** Math.min(frame.bitsStored, frame.bitsAllocated) - 1);
  const signed = frame.pixelRepresentation === 1;
  const offset = signed ? 2 ** (frame.bitsStored - 1) : 0;
  for (let i = 0; i < values.length; i++) out[i] = toByte((values[i]! + offset) * scale);
  return out;
}

/** YBR_FULL to RGB: the inverse of PS3.3 C.7.6.3.1.2's equations (full range, 8-bit). */
function ybrFullPixels(frame: DecodedFrame): Buffer {
  if (frame.bitsAllocated !== 8) {
    throw new AppError('not-acceptable', `cannot render ${frame.photometricInterpretation} with Bits Allocated ${frame.bitsAllocated} (8 can be rendered)`);
  }
  const n = frame.rows * frame.columns;
  const src = frame.bytes;
  if (src.length < n * 3) throw shortFrame(frame, n * 3);
  const out = Buffer.allocUnsafe(n * 3);
  for (let p = 0; p < n * 3; p += 3) {
    const y = src[p]!;
    const cb = src[p + 1]! - 128;
    const cr = src[p + 2]! - 128;
    out[p] = toByte(y + 1.402 * cr);
    out[p + 1] = toByte(y - 0.344136 * cb - 0.714136 * cr);
    out[p + 2] = toByte(y + 1.772 * cb);
  }
  return out;
}

/** One palette LUT as 8-bit values, with how a stored value indexes it. */
function paletteTable(lut: PaletteLut, name: string): Uint8Array {
  const entries = lut.entries;
  // LUT Data is OW: 16-bit words. 8-bit palettes are found both packed (one byte per entry) and one entry per word.
  const perEntry = lut.data.length >= entries * 2 ? 2 : lut.data.length >= entries ? 1 : 0;
  if (perEntry === 0) {
    throw new AppError('bad-dicom', `${name} Palette Color Lookup Table Data has ${lut.data.length} bytes, less than the ${entries} entries its descriptor gives`);
  }
  const table = new Uint8Array(entries);
  for (let i = 0; i < entries; i++) {
    const value = perEntry === 2 ? lut.data.readUInt16LE(i * 2) : lut.data[i]!;
    table[i] = lut.bits > 8 ? value >> (lut.bits - 8) : value & 0xff;
  }
  return table;
}

/** PALETTE COLOR to RGB (PS3.3 C.7.6.3.1.5: values below the first mapped one take the first entry, above the last the last). */
function palettePixels(frame: DecodedFrame, attrs: RenderingAttributes): Buffer {
  const palette = attrs.palette;
  if (!palette) throw new AppError('bad-dicom', 'PALETTE COLOR image without Red, Green and Blue Palette Color Lookup Tables (0028,1101-1103 / 0028,1201-1203)');
  const tables = [paletteTable(palette.red, 'Red'), paletteTable(palette.green, 'Green'), paletteTable(palette.blue, 'Blue')];
  const firsts = [palette.red.firstMapped, palette.green.firstMapped, palette.blue.firstMapped];
  const values = sampleValues(frame);
  const out = Buffer.allocUnsafe(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    for (let c = 0; c < 3; c++) {
      const table = tables[c]!;
      let index = values[i]! - firsts[c]!;
      if (index < 0) index = 0;
      else if (index >= table.length) index = table.length - 1;
      out[i * 3 + c] = table[index]!;
    }
  }
  return out;
}

/** A decoded frame as 8-bit display pixels (no scaling); grey pixels are written into `allocate`'s buffer. */
export function displayPixels(frame: DecodedFrame, attrs: RenderingAttributes, window?: VoiWindow, allocate: FrameAllocator = Buffer.allocUnsafe): DisplayPixels {
  const size = { width: frame.columns, height: frame.rows };
  const pi = frame.photometricInterpretation;
  if (frame.samplesPerPixel === 1) {
    if (pi === 'MONOCHROME1' || pi === 'MONOCHROME2') return { ...size, channels: 1, data: greyPixels(frame, attrs, window, allocate) };
    if (pi === 'PALETTE COLOR') return { ...size, channels: 3, data: palettePixels(frame, attrs) };
  } else if (frame.samplesPerPixel === 3) {
    if (pi === 'RGB') return { ...size, channels: 3, data: rgbPixels(frame) };
    if (pi === 'YBR_FULL') return { ...size, channels: 3, data: ybrFullPixels(frame) };
  }
  throw new AppError(
    'not-acceptable',
    `cannot render Photometric Interpretation ${pi} with ${frame.samplesPerPixel} sample(s) per pixel (MONOCHROME1, MONOCHROME2, PALETTE COLOR, RGB and YBR_FULL can be rendered)`,
  );
}

/**
 * The source region of `viewport=vw,vh,sx,sy,sw,sh` (PS3.18 8.3.5.1.3), clipped
 * to the image; a negative sw (sh) takes the columns (rows) to the left of
 * (above) sx (sy), flipped. Copied here: a plain crop and mirror of 8-bit rows.
 */
export function sourceRegion(pixels: DisplayPixels, region: NonNullable<Viewport['region']>): DisplayPixels {
  const left = Math.max(0, region.width < 0 ? region.x + region.width : region.x);
  const top = Math.max(0, region.height < 0 ? region.y + region.height : region.y);
  const right = Math.min(pixels.width, region.width < 0 ? region.x : region.x + region.width);
  const bottom = Math.min(pixels.height, region.height < 0 ? region.y : region.y + region.height);
  const width = right - left;
  const height = bottom - top;
  if (width <= 0 || height <= 0) {
    throw new AppError('bad-request', `viewport source region ${region.x},${region.y},${region.width},${region.height} lies outside the ${pixels.width}x${pixels.height} image`);
  }
  const c = pixels.channels;
  const out = Buffer.allocUnsafe(width * height * c);
  for (let y = 0; y < height; y++) {
    const sy = region.height < 0 ? bottom - 1 - y : top + y;
    for (let x = 0; x < width; x++) {
      const sx = region.width < 0 ? right - 1 - x : left + x;
      pixels.data.copy(out, (y * width + x) * c, (sy * pixels.width + sx) * c, (sy * pixels.width + sx + 1) * c);
    }
  }
  return { data: out, width, height, channels: c };
}

/**
 * The size an image of `image` size is shown at in `viewport` (no source
 * region): fitted inside vw x vh with its aspect kept, rounded as sharp's
 * `fit: 'inside'` rounds (tested against it); undefined when the viewport
 * gives no size (the image's own size).
 */
export function shownSize(image: ImageSize, viewport: Viewport | undefined): ImageSize | undefined {
  if (!viewport || (viewport.width === undefined && viewport.height === undefined)) return undefined;
  const scale = Math.min(viewport.width === undefined ? Infinity : viewport.width / image.width, viewport.height === undefined ? Infinity : viewport.height / image.height);
  return { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) };
}

/**
 * Display pixels shrunk by a whole factor k, each output pixel the mean of a
 * k x k block (a box filter, what libvips itself uses for whole-factor
 * shrinking), when that gives exactly `target`; undefined otherwise. Written
 * here because sharp's resize has a fixed cost of ~1.5 ms of CPU per image
 * whatever the sizes, more than encoding the result (sharp 0.35 / libvips
 * 8.18, measured: 512x512 grey to a 128x128 JPEG 2.4 ms with sharp's resize,
 * 0.9 ms box-averaged here then encoded), and the common viewports are whole
 * fractions of the common image sizes (128 or 256 of 512).
 */
export function wholeFactorShrink(pixels: DisplayPixels, target: ImageSize): DisplayPixels | undefined {
  const k = pixels.width / target.width;
  if (!Number.isInteger(k) || k < 2 || pixels.height !== target.height * k) return undefined;
  const { width, height } = target;
  const c = pixels.channels;
  const rowLength = width * c;
  const src = pixels.data;
  const out = Buffer.allocUnsafe(rowLength * height);
  const sums = new Uint32Array(rowLength);
  const n = k * k;
  const half = n >> 1;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < k; dy++) {
      let i = (y * k + dy) * pixels.width * c;
      if (c === 1) {
        for (let x = 0; x < width; x++) {
          let s = 0;
          for (let dx = 0; dx < k; dx++) s += src[i++]!;
          sums[x] += s;
        }
      } else {
        for (let x = 0; x < width; x++) {
          for (let dx = 0; dx < k; dx++) for (let ch = 0; ch < c; ch++) sums[x * c + ch] += src[i++]!;
        }
      }
    }
    const base = y * rowLength;
    for (let j = 0; j < rowLength; j++) out[base + j] = ((sums[j]! + half) / n) | 0;
  }
  return { data: out, width, height, channels: c };
}

/**
 * Display pixels to the encoded image: source region, fit inside the viewport
 * (aspect kept), JPEG or PNG. `image`: the frame's own size, when `pixels` are
 * a lower resolution of it (decodeFrameInThread's `shown`): they are scaled to
 * exactly the size the whole frame would have been shown at.
 */
export async function encodeDisplayPixels(pixels: DisplayPixels, params: RenderParams, image: ImageSize = pixels): Promise<Buffer> {
  const viewport = params.viewport;
  const reduced = pixels.width !== image.width || pixels.height !== image.height;
  if (reduced && viewport?.region) throw new AppError('internal', 'a viewport with a source region needs the whole frame, not a lower resolution');
  let source = viewport?.region ? sourceRegion(pixels, viewport.region) : pixels;
  const target = shownSize(reduced ? image : source, viewport);
  const shrunk = target && wholeFactorShrink(source, target);
  if (shrunk) source = shrunk;
  let encoder = sharp(source.data, { raw: { width: source.width, height: source.height, channels: source.channels } });
  if (target && !shrunk) {
    // `fit: 'inside'` gives `target` (shownSize rounds as it does); a lower resolution is scaled to exactly that size.
    encoder = reduced ? encoder.resize({ ...target, fit: 'fill' }) : encoder.resize({ width: viewport!.width, height: viewport!.height, fit: 'inside' });
  }
  if (source.channels === 1) encoder = encoder.toColourspace('b-w');
  return params.mediaType === 'image/png'
    ? encoder.png().toBuffer()
    : encoder.jpeg({ quality: params.quality ?? DEFAULT_JPEG_QUALITY, optimiseCoding: false }).toBuffer();
}

/**
 * A decoded frame rendered as `params` ask. `allocate`: where the display
 * pixels go; the buffer is in use until the returned promise settles.
 * `image`: the frame's own size when `frame` was decoded at a lower resolution.
 */
export async function renderFrame(frame: DecodedFrame, attrs: RenderingAttributes, params: RenderParams, allocate?: FrameAllocator, image?: ImageSize): Promise<Buffer> {
  return encodeDisplayPixels(displayPixels(frame, attrs, params.window, allocate), params, image);
}
