/**
 * Signed JPEG 2000 samples: the OpenJPEG wasm build hands out samples of 8
 * bits or less clamped to 0..255 (negative values become 0), so such frames
 * are refused with 406 naming why, rather than decoded into wrong pixels;
 * wider signed samples decode exactly. Codestreams made by opj_compress.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { decodeJpeg2000 } from '../../../main/pixels/codecs/jpeg2000.js';
import type { FrameInfo } from '../../../main/pixels/types.js';
import { haveOpenjpegTools } from '../../support/pixelFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'j2k-signed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 48;
const COLUMNS = 64;

/** A signed ramp from the lowest to the highest value of `bits`, encoded lossless by opj_compress. */
function signedCodestream(bits: number): { codestream: Buffer; words: Buffer; info: FrameInfo } {
  const bytes = bits <= 8 ? 1 : 2;
  const words = Buffer.alloc(ROWS * COLUMNS * bytes);
  const low = -(2 ** (bits - 1));
  const span = 2 ** bits;
  for (let i = 0; i < ROWS * COLUMNS; i++) {
    const value = low + Math.floor((i * span) / (ROWS * COLUMNS));
    if (bytes === 1) words.writeInt8(value, i);
    else words.writeInt16LE(value, i * 2);
  }
  const raw = join(dir, `in${bits}.rawl`);
  const out = join(dir, `out${bits}.j2k`);
  writeFileSync(raw, words);
  execFileSync('opj_compress', ['-i', raw, '-F', `${COLUMNS},${ROWS},1,${bits},s`, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const info = {
    transferSyntaxUID: '1.2.840.10008.1.2.4.90',
    rows: ROWS,
    columns: COLUMNS,
    samplesPerPixel: 1,
    bitsAllocated: bytes * 8,
    bitsStored: bits,
    highBit: bits - 1,
    pixelRepresentation: 1,
    photometricInterpretation: 'MONOCHROME2',
    planarConfiguration: 0,
    numberOfFrames: 1,
  } as FrameInfo;
  return { codestream: readFileSync(out), words, info };
}

describe.skipIf(!haveOpenjpegTools)('signed JPEG 2000 samples', () => {
  test('8-bit signed frames are refused (406), naming the syntax and the reason', async () => {
    const { codestream, info } = signedCodestream(8);
    const error = await decodeJpeg2000(codestream, info).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('not-acceptable');
    expect((error as AppError).message).toMatch(/JPEG 2000 \(Lossless Only\).*signed samples of 8 bits.*clamps negative values/);
  });

  test('12- and 16-bit signed frames decode exactly, negative values included', async () => {
    for (const bits of [12, 16]) {
      const { codestream, words, info } = signedCodestream(bits);
      expect((await decodeJpeg2000(codestream, info)).equals(words), `${bits} bits`).toBe(true);
    }
  });
});
