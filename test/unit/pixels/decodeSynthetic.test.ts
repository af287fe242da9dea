/**
 * What pydicom's samples lack, made here from synthetic native images
 * (test/support/synthPixels.py) with the reference encoders: JPEG Lossless
 * with every predictor (dcmcjpeg), JPEG-LS lossless and near-lossless
 * (dcmcjpls), RLE of palette colour, planar and signed data (dcmcrle), JPEG
 * 2000 lossless (YBR_RCT) and lossy (YBR_ICT) colour and signed data
 * (opj_compress), 12-bit JPEG (dcmcjpeg), multi-frame data with several
 * fragments per frame with and without a Basic Offset Table. Lossless frames
 * must equal the original pixels; lossy ones are compared with the reference
 * decoder (dcmtk, GDCM) and with the original.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeFrameInThread } from '../../../main/pixels/decodeFrame.js';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { readFileSync } from 'node:fs';
import {
  haveDcmtk,
  haveGdcmTools,
  haveOpenjpegTools,
  havePythonGdcm,
  maxDifference,
  referenceFrames,
  storedFrames,
  type ReferenceFrames,
} from '../../support/pixelFiles.js';
import { synthJpeg2000File, synthNativeFile, type SynthSpec } from '../../support/synthPixelFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'decode-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Spec = SynthSpec;

const mono = (bitsAllocated: number, bitsStored: number, signed: boolean, frames = 1): Spec => ({
  rows: 48,
  columns: 64,
  samples: 1,
  bitsAllocated,
  bitsStored,
  signed,
  photometric: 'MONOCHROME2',
  planar: 0,
  frames,
});
const rgb = (bitsAllocated: number, planar: 0 | 1, frames = 1): Spec => ({ ...mono(bitsAllocated, bitsAllocated, false, frames), samples: 3, photometric: 'RGB', planar });

let count = 0;
const nativeFile = (spec: Spec) => synthNativeFile(dir, spec);

function run(tool: string, args: string[]): void {
  execFileSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `tool [options] in out` → out. */
function encoded(tool: string, options: string[], source: string): string {
  const out = join(dir, `encoded${++count}.dcm`);
  run(tool, [...options, source, out]);
  return out;
}

/** Our decoding of every frame of `path`, checked against `expected` frame by frame. */
async function expectDecoded(path: string, expected: ReferenceFrames, max: number, syntax?: string): Promise<void> {
  const { info, frames } = await storedFrames(path);
  if (syntax) expect(info.transferSyntaxUID).toBe(syntax);
  expect(frames.length).toBe(expected.frames.length);
  for (const [i, stored] of frames.entries()) {
    const ours = await decodeFrameInThread(stored, info);
    expect(ours.photometricInterpretation).toBe(expected.photometricInterpretation);
    expect(ours.bytes.length).toBe(expected.frames[i]!.length);
    if (max === 0) expect(ours.bytes.equals(expected.frames[i]!), `frame ${i + 1} equals the original`).toBe(true);
    else expect(maxDifference(ours.bytes, expected.frames[i]!, info.bitsAllocated, info.pixelRepresentation === 1), `frame ${i + 1}`).toBeLessThanOrEqual(max);
  }
}

/** The original pixels (pydicom reading the native file) as DecodedFrame bytes. */
const original = (path: string) => referenceFrames('pydicom', path);

const JPEG_LOSSLESS = '1.2.840.10008.1.2.4.57';
const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70';

describe.skipIf(!(havePythonGdcm && haveDcmtk))('JPEG Lossless, every predictor (dcmcjpeg)', () => {
  const sources = [
    { name: '16-bit, 12 stored, unsigned, 2 frames', spec: mono(16, 12, false, 2) },
    { name: '16-bit signed', spec: mono(16, 16, true) },
    { name: '8-bit', spec: mono(8, 8, false) },
  ];
  for (const { name, spec } of sources) {
    test.each([1, 2, 3, 4, 5, 6, 7])(`${name}: selection value %i equals the original`, async (sv) => {
      const source = nativeFile(spec);
      const options = sv === 1 ? ['+e1'] : ['+el', '+sv', String(sv)];
      await expectDecoded(encoded('dcmcjpeg', options, source), original(source), 0, sv === 1 ? JPEG_LOSSLESS_SV1 : JPEG_LOSSLESS);
    });
  }
  test('8-bit RGB (SV1) equals the original, no colour transform', async () => {
    const source = nativeFile(rgb(8, 0));
    await expectDecoded(encoded('dcmcjpeg', ['+e1'], source), original(source), 0, JPEG_LOSSLESS_SV1);
  });
});

describe.skipIf(!(havePythonGdcm && haveDcmtk))('JPEG-LS (dcmcjpls)', () => {
  test.each([
    { name: '16-bit signed', spec: mono(16, 16, true) },
    { name: '16-bit, 12 stored', spec: mono(16, 12, false) },
    { name: '8-bit RGB', spec: rgb(8, 0) },
  ])('lossless $name equals the original', async ({ spec }) => {
    const source = nativeFile(spec);
    await expectDecoded(encoded('dcmcjpls', ['+el'], source), original(source), 0, '1.2.840.10008.1.2.4.80');
  });

  test('near-lossless (NEAR 3) equals dcmdjpls and stays within 3 of the original', async () => {
    const source = nativeFile(mono(16, 12, false));
    const file = encoded('dcmcjpls', ['+en', '+md', '3'], source);
    await expectDecoded(file, referenceFrames('dcmtk', file), 0, '1.2.840.10008.1.2.4.81');
    await expectDecoded(file, original(source), 3);
  });

  test('3 frames in fragments of 1 KB with no Basic Offset Table equal the original', async () => {
    const source = nativeFile(mono(16, 16, false, 3));
    const file = encoded('dcmcjpls', ['+el', '+fs', '1', '-ot'], source);
    const layout = parseInstance(readFileSync(file)).pixel!;
    expect(layout.frames!.length).toBe(3);
    expect(layout.frames!.every((fragments) => fragments.length > 1)).toBe(true);
    await expectDecoded(file, original(source), 0);
  });
});

describe.skipIf(!(havePythonGdcm && haveDcmtk))('RLE Lossless (dcmcrle)', () => {
  test.each([
    { name: 'palette colour (indices stay indices)', spec: { ...mono(8, 8, false), photometric: 'PALETTE COLOR', palette: true } },
    { name: 'RGB stored planar', spec: rgb(8, 1) },
    { name: '16-bit RGB, 2 frames', spec: rgb(16, 0, 2) },
    { name: 'signed 12-bit in 16', spec: mono(16, 12, true) },
    { name: 'signed 16-bit, 3 frames', spec: mono(16, 16, true, 3) },
    { name: '8-bit monochrome', spec: mono(8, 8, false) },
    { name: 'MONOCHROME1 (stays MONOCHROME1)', spec: { ...mono(16, 12, false), photometric: 'MONOCHROME1' } },
  ])('$name equals the original', async ({ spec }) => {
    const source = nativeFile(spec as Spec);
    await expectDecoded(encoded('dcmcrle', [], source), original(source), 0, '1.2.840.10008.1.2.5');
  });

  test('3 frames in fragments of 1 KB with a Basic Offset Table equal the original', async () => {
    const source = nativeFile(mono(16, 16, true, 3));
    const file = encoded('dcmcrle', ['+fs', '1'], source);
    expect(parseInstance(readFileSync(file)).pixel!.frames!.every((fragments) => fragments.length > 1)).toBe(true);
    await expectDecoded(file, original(source), 0);
  });

  test('one frame in several fragments with no Basic Offset Table equals the original', async () => {
    const source = nativeFile(rgb(16, 0));
    const file = encoded('dcmcrle', ['+fs', '1', '-ot'], source);
    expect(parseInstance(readFileSync(file)).pixel!.frames![0]!.length).toBeGreaterThan(1);
    await expectDecoded(file, original(source), 0);
  });
});

describe.skipIf(!havePythonGdcm)('native frames', () => {
  test.each([
    { name: 'RGB 16-bit planar → interleaved', spec: rgb(16, 1) },
    { name: 'RGB 8-bit planar, 2 frames', spec: rgb(8, 1, 2) },
    { name: 'signed 16-bit', spec: mono(16, 16, true) },
  ])('$name equals pydicom', async ({ spec }) => {
    const source = nativeFile(spec);
    await expectDecoded(source, original(source), 0);
  });
});

describe.skipIf(!(havePythonGdcm && haveOpenjpegTools && haveGdcmTools))('JPEG 2000 (opj_compress)', () => {
  const j2kFile = (source: string, spec: Spec, options: string[], syntax: string, photometric: string) => synthJpeg2000File(dir, source, spec, options, syntax, photometric).path;

  test('lossless colour with the reversible transform (YBR_RCT) comes out RGB equal to the original', async () => {
    const spec = rgb(8, 0);
    const source = nativeFile(spec);
    const file = j2kFile(source, spec, ['-mct', '1'], '1.2.840.10008.1.2.4.90', 'YBR_RCT');
    await expectDecoded(file, original(source), 0);
  });

  test('lossy colour with the irreversible transform (YBR_ICT) comes out RGB like GDCM, close to the original', async () => {
    const spec = rgb(8, 0);
    const source = nativeFile(spec);
    const file = j2kFile(source, spec, ['-I', '-mct', '1', '-r', '8'], '1.2.840.10008.1.2.4.91', 'YBR_ICT');
    // Both are OpenJPEG (ours compiled to wasm, GDCM's native libopenjp2): equal.
    const gdcm = referenceFrames('gdcm', file);
    expect(gdcm.photometricInterpretation).toBe('RGB');
    await expectDecoded(file, gdcm, 0);
    const { info, frames } = await storedFrames(file);
    const ours = await decodeFrameInThread(frames[0]!, info);
    const mean = meanAbs(ours.bytes, original(source).frames[0]!);
    expect(mean).toBeLessThan(20); // 8:1 on an image of noise: a visible loss (13 here), far from garbage (~85)
  });

  test.each([
    { name: 'signed 16-bit', spec: mono(16, 16, true) },
    { name: 'signed 12-bit in 16', spec: mono(16, 12, true) },
    { name: 'unsigned 12-bit in 16', spec: mono(16, 12, false) },
  ])('lossless $name equals the original', async ({ spec }) => {
    const source = nativeFile(spec);
    const file = j2kFile(source, spec, [], '1.2.840.10008.1.2.4.90', 'MONOCHROME2');
    await expectDecoded(file, original(source), 0);
  });
});

describe.skipIf(!(havePythonGdcm && haveDcmtk))('JPEG Extended (dcmcjpeg +ee)', () => {
  test('8-bit data under the extended syntax goes to libjpeg-turbo and equals dcmdjpeg', async () => {
    const source = nativeFile(mono(8, 8, false));
    const file = encoded('dcmcjpeg', ['+ee'], source);
    await expectDecoded(file, referenceFrames('dcmtk', file), 0, '1.2.840.10008.1.2.4.51');
  });


  test('equals dcmdjpeg within 1 (IDCT rounding), except pixels the decoder saturates at 4095', async () => {
    const source = nativeFile(mono(16, 12, false));
    const file = encoded('dcmcjpeg', ['+ee', '+q', '95'], source);
    const reference = referenceFrames('dcmtk', file);
    const { info, frames } = await storedFrames(file);
    const ours = await decodeFrameInThread(frames[0]!, info);
    const theirs = reference.frames[0]!;
    let beyond = 0;
    for (let i = 0; i < ours.bytes.length; i += 2) {
      const a = ours.bytes.readUInt16LE(i);
      const b = theirs.readUInt16LE(i);
      // The JavaScript decoder clamps at 4095 before its level-shift correction (main/pixels/codecs/jpegJs.ts).
      if (Math.abs(a - b) > 1 && !(a === 4095 && b >= 4080)) beyond++;
    }
    expect(beyond).toBe(0);
  });
});

function meanAbs(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
