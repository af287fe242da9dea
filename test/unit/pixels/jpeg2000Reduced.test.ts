/**
 * JPEG 2000 decoded at a lower resolution (main/pixels/codecs/jpeg2000.ts),
 * for images shown smaller than they are: the samples must equal what native
 * OpenJPEG gives for the same resolution level (`opj_decompress -r`, Debian
 * libopenjp2-tools, an independent build), the level count must be read from
 * the codestream as the encoder wrote it (`opj_compress -n`), and frames that
 * must not be blended (palette indices) or cannot be reduced are decoded whole.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeJpeg2000Reduced, reducibleLevels, reducedSize } from '../../../main/pixels/codecs/jpeg2000.js';
import { decodeFrameInThread, levelsAbove } from '../../../main/pixels/decodeFrame.js';
import { haveOpenjpegTools, havePythonGdcm, storedFrames } from '../../support/pixelFiles.js';
import { synthJpeg2000File, synthNativeFile, type SynthSpec } from '../../support/synthPixelFiles.js';

const J2K_LOSSLESS = '1.2.840.10008.1.2.4.90';
const dir = mkdtempSync(join(tmpdir(), 'j2k-reduced-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mono12 = (columns: number, rows: number): SynthSpec => ({
  rows,
  columns,
  samples: 1,
  bitsAllocated: 16,
  bitsStored: 12,
  signed: false,
  photometric: 'MONOCHROME2',
  planar: 0,
  frames: 1,
});

/** Samples of a PGM/PPM written by opj_decompress (big endian words above 255), as little endian words or bytes. */
function readNetpbm(path: string): { width: number; height: number; channels: number; samples: Buffer } {
  const bytes = readFileSync(path);
  const tokens: string[] = [];
  let at = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[at]!))) at++;
    if (bytes[at] === 0x23) {
      while (bytes[at] !== 0x0a) at++; // a comment line ('#OpenJPEG-2.5.0')
      continue;
    }
    let token = '';
    while (!/\s/.test(String.fromCharCode(bytes[at]!))) token += String.fromCharCode(bytes[at++]!);
    tokens.push(token);
  }
  at++; // the single whitespace after maxval
  const [magic, width, height, maxval] = tokens;
  const samples = Buffer.from(bytes.subarray(at));
  return { width: Number(width), height: Number(height), channels: magic === 'P6' ? 3 : 1, samples: Number(maxval) > 255 ? samples.swap16() : samples };
}

function opjReduced(codestream: string, levels: number, ext: 'pgm' | 'ppm'): ReturnType<typeof readNetpbm> {
  const out = join(dir, `opj-${levels}-${Math.random().toString(36).slice(2)}.${ext}`);
  execFileSync('opj_decompress', ['-i', codestream, '-o', out, '-r', String(levels)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readNetpbm(out);
}

describe('sizes of resolution levels (ISO 15444-1 B.5)', () => {
  test('a level is the image area divided by 2^levels, corners rounded up', () => {
    expect(reducedSize(512, 512, { x: 0, y: 0 }, 2)).toEqual({ columns: 128, rows: 128 });
    expect(reducedSize(301, 203, { x: 0, y: 0 }, 1)).toEqual({ columns: 151, rows: 102 });
    // An area from x = 1 to 8 (7 wide): ceil(8 / 2) - ceil(1 / 2) = 3 columns, where ceil(7 / 2) would say 4.
    expect(reducedSize(7, 4, { x: 1, y: 0 }, 1)).toEqual({ columns: 3, rows: 2 });
  });

  test('levelsAbove halves while both sides still cover the shown size', () => {
    expect(levelsAbove({ columns: 512, rows: 512 }, { width: 128, height: 128 })).toBe(2);
    expect(levelsAbove({ columns: 512, rows: 512 }, { width: 129, height: 128 })).toBe(1);
    expect(levelsAbove({ columns: 512, rows: 512 }, { width: 512, height: 512 })).toBe(0);
    expect(levelsAbove({ columns: 301, rows: 203 }, { width: 64, height: 43 })).toBe(2); // 75 x 50 covers it, 37 x 25 does not
    expect(levelsAbove({ columns: 301, rows: 203 }, { width: 64, height: 51 })).toBe(1); // 50 rows (203 / 4 rounded down) < 51
  });
});

describe.skipIf(!(havePythonGdcm && haveOpenjpegTools))('JPEG 2000 at a lower resolution equals native OpenJPEG (opj_decompress -r)', () => {
  const spec = mono12(301, 203);
  const source = synthNativeFile(dir, spec);
  const fiveLevels = synthJpeg2000File(dir, source, spec, [], J2K_LOSSLESS, 'MONOCHROME2');
  const threeLevels = synthJpeg2000File(dir, source, spec, ['-n', '4'], J2K_LOSSLESS, 'MONOCHROME2');

  test('the main header gives the levels the encoder was asked for (opj_compress -n: resolutions = levels + 1)', () => {
    expect(reducibleLevels(readFileSync(fiveLevels.codestream))).toBe(5);
    expect(reducibleLevels(readFileSync(threeLevels.codestream))).toBe(3);
    expect(reducibleLevels(Buffer.from([1, 2, 3, 4]))).toBe(0);
  });

  test.each([1, 2, 3])('%i level(s) down: same size and samples', async (levels) => {
    const { info, frames } = await storedFrames(fiveLevels.path);
    const ours = await decodeJpeg2000Reduced(frames[0]!, info, levels);
    const theirs = opjReduced(fiveLevels.codestream, levels, 'pgm');
    expect(ours.reduce).toBe(levels);
    expect({ columns: ours.columns, rows: ours.rows }).toEqual({ columns: theirs.width, rows: theirs.height });
    expect(ours.bytes.equals(theirs.samples)).toBe(true);
  });

  test('lossy (irreversible 9/7 wavelet, .91): a lower level within 1 of native OpenJPEG, and the same size', async () => {
    const lossy = synthJpeg2000File(dir, source, spec, ['-I', '-r', '10'], '1.2.840.10008.1.2.4.91', 'MONOCHROME2');
    const { info, frames } = await storedFrames(lossy.path);
    const ours = await decodeJpeg2000Reduced(frames[0]!, info, 1);
    const theirs = opjReduced(lossy.codestream, 1, 'pgm');
    expect({ columns: ours.columns, rows: ours.rows }).toEqual({ columns: theirs.width, rows: theirs.height });
    let max = 0;
    for (let i = 0; i < ours.bytes.length; i += 2) max = Math.max(max, Math.abs(ours.bytes.readUInt16LE(i) - theirs.samples.readUInt16LE(i)));
    expect(max).toBeLessThanOrEqual(1); // the same library in wasm and native: float rounding at most
  });

  test.each([
    { what: 'tiles of 128x96', options: ['-t', '128,96'] },
    { what: 'resolution-major progression with precincts', options: ['-p', 'RPCL', '-c', '[64,64],[32,32]'] },
    { what: 'several quality layers', options: ['-r', '20,5,1'] },
  ])('codestreams with $what: two levels down equal opj_decompress -r 2', async ({ options }) => {
    const file = synthJpeg2000File(dir, source, spec, options, J2K_LOSSLESS, 'MONOCHROME2');
    const { info, frames } = await storedFrames(file.path);
    const ours = await decodeJpeg2000Reduced(frames[0]!, info, 2);
    const theirs = opjReduced(file.codestream, 2, 'pgm');
    expect(ours.reduce).toBe(2);
    expect({ columns: ours.columns, rows: ours.rows }).toEqual({ columns: theirs.width, rows: theirs.height });
    expect(ours.bytes.equals(theirs.samples)).toBe(true);
  });

  test('an image area that does not start at the grid origin is decoded whole (the wasm build sizes such levels wrongly)', async () => {
    const file = synthJpeg2000File(dir, source, spec, ['-d', '3,1'], J2K_LOSSLESS, 'MONOCHROME2');
    expect(reducibleLevels(readFileSync(file.codestream))).toBe(0);
    const { info, frames } = await storedFrames(file.path);
    const ours = await decodeJpeg2000Reduced(frames[0]!, info, 2);
    expect(ours.reduce).toBe(0);
    expect({ columns: ours.columns, rows: ours.rows }).toEqual({ columns: 301, rows: 203 });
    expect(ours.bytes.equals(opjReduced(file.codestream, 0, 'pgm').samples)).toBe(true);
  });

  test('asking more levels than the codestream has drops all it has', async () => {
    const { info, frames } = await storedFrames(threeLevels.path);
    const ours = await decodeJpeg2000Reduced(frames[0]!, info, 7);
    expect(ours.reduce).toBe(3);
    expect(ours.bytes.equals(opjReduced(threeLevels.codestream, 3, 'pgm').samples)).toBe(true);
  });

  test('decodeFrameInThread with a shown size gives the smallest level covering twice that size; without one, the whole frame', async () => {
    const { info, frames } = await storedFrames(fiveLevels.path);
    const shown = await decodeFrameInThread(frames[0]!, info, undefined, { width: 32, height: 21 });
    expect({ columns: shown.columns, rows: shown.rows }).toEqual({ columns: 76, rows: 51 }); // two levels down: 75.25, 50.75 rounded up
    expect(shown.bytes.length).toBe(76 * 51 * 2);
    const once = await decodeFrameInThread(frames[0]!, info, undefined, { width: 64, height: 43 });
    expect({ columns: once.columns, rows: once.rows }).toEqual({ columns: 151, rows: 102 });
    const whole = await decodeFrameInThread(frames[0]!, info);
    expect({ columns: whole.columns, rows: whole.rows }).toEqual({ columns: 301, rows: 203 });
  });

  test('colour (YBR_RCT) comes out as interleaved RGB at the lower level, like opj_decompress', async () => {
    const rgbSpec: SynthSpec = { ...mono12(96, 80), samples: 3, bitsAllocated: 8, bitsStored: 8, photometric: 'RGB' };
    const rgbSource = synthNativeFile(dir, rgbSpec);
    const file = synthJpeg2000File(dir, rgbSource, rgbSpec, ['-mct', '1'], J2K_LOSSLESS, 'YBR_RCT');
    const { info, frames } = await storedFrames(file.path);
    const ours = await decodeFrameInThread(frames[0]!, info, undefined, { width: 20, height: 20 });
    const theirs = opjReduced(file.codestream, 1, 'ppm');
    expect(ours.photometricInterpretation).toBe('RGB');
    expect({ columns: ours.columns, rows: ours.rows }).toEqual({ columns: 48, rows: 40 });
    expect(ours.bytes.equals(theirs.samples)).toBe(true);
  });

  test('palette colour is decoded whole: its samples are indices, which a lower level would blend', async () => {
    const paletteSpec: SynthSpec = { ...mono12(64, 64), bitsAllocated: 8, bitsStored: 8, photometric: 'PALETTE COLOR', palette: true };
    const paletteSource = synthNativeFile(dir, paletteSpec);
    const file = synthJpeg2000File(dir, paletteSource, paletteSpec, [], J2K_LOSSLESS, 'PALETTE COLOR');
    const { info, frames } = await storedFrames(file.path);
    const ours = await decodeFrameInThread(frames[0]!, info, undefined, { width: 8, height: 8 });
    expect({ columns: ours.columns, rows: ours.rows }).toEqual({ columns: 64, rows: 64 });
  });

  test('a truncated codestream is still refused, at any level', async () => {
    const { info, frames } = await storedFrames(fiveLevels.path);
    const cut = frames[0]!.subarray(0, frames[0]!.length >> 1);
    await expect(decodeJpeg2000Reduced(cut, info, 2)).rejects.toThrow(/truncated/);
  });
});
