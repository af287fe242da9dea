/**
 * WADO-RS Retrieve Frames of compressed instances, decoded (PS3.18 10.4.1.1.4,
 * 8.7.3.3.2: application/octet-stream without transfer-syntax, or with
 * 1.2.840.10008.1.2.1, is uncompressed): over real HTTP, each frame equals what
 * another project's decoder gives (dcmtk for RLE, JPEG, JPEG-LS; GDCM for JPEG
 * 2000): lossless syntaxes exactly, lossy ones within LOSSY_TOLERANCE.
 * transfer-syntax=* still gives the stored bytes; corrupt data answers 400
 * (or, for a later frame of a multipart answer, a truncated body) and the
 * server keeps serving. Corrupt files are written by pydicom
 * (pixelReference.ts writeCraftedInstances).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { getMultipart, readPartsUntilFailure, pydicomFrames, pydicomUids, stow } from './dicomwebHttp.js';
import { haveReferenceDecoders, maxSampleDifference, referenceDecoderFor, referencePixels, writeCraftedInstances, type CraftedInstances } from './pixelReference.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DECODED = 'multipart/related; type="application/octet-stream"';
/**
 * Largest sample difference accepted for lossy syntaxes: two conforming JPEG
 * decoders may differ by a few steps (IDCT rounding, chroma upsampling and
 * YCbCr → RGB conversion differ between libjpeg-turbo and dcmtk's IJG code).
 */
const LOSSY_TOLERANCE = 3;
const LOSSY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.81']);

const SAMPLES = [
  'SC_rgb_rle_2frame.dcm', // RLE, RGB 8-bit, 2 frames
  'rtdose_rle.dcm', // RLE, 32-bit, 15 frames
  'MR_small_RLE.dcm', // RLE, signed 16-bit
  'SC_rgb_jpeg_gdcm.dcm', // JPEG lossless SV1, RGB
  'JPEG-lossy.dcm', // JPEG extended, 12-bit
  'SC_rgb_jpeg_dcmtk.dcm', // JPEG baseline, YBR_FULL
  'SC_rgb_dcmtk_+eb+cy+np.dcm', // JPEG baseline, YBR_FULL_422
  'MR_small_jpeg_ls_lossless.dcm', // JPEG-LS lossless, signed
  'MR_small_jp2klossless.dcm', // JPEG 2000 lossless, signed
  'JPEG2000.dcm', // JPEG 2000 lossy
  'GDCMJ2K_TextGBR.dcm', // JPEG 2000 lossless, YBR_RCT
];

const ready = havePydicomSamples && haveReferenceDecoders;

describe.skipIf(!ready)('WADO-RS decoded frames of compressed instances', () => {
  let engine: TestEngine;
  let uids: ReturnType<typeof pydicomUids>;
  let work: string;
  let crafted: CraftedInstances;

  beforeAll(async () => {
    engine = await startTestEngine();
    work = mkdtempSync(join(tmpdir(), 'decoded-frames-'));
    crafted = writeCraftedInstances(work, sample);
    uids = pydicomUids([...SAMPLES.map(sample), crafted.rleBadFrame2, crafted.jpegBadFrame2, crafted.rleExtendedOffsets]);
  });
  afterAll(async () => {
    await engine?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function urlOf(path: string): string {
    const u = uids[path]!;
    return `${engine.dicomWebUrl}/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}/instances/${u.sopInstanceUID}`;
  }

  /** Stores one file alone (several samples share a SOP Instance UID), runs `check`, deletes it. */
  async function withStored(path: string, check: (url: string) => Promise<void>): Promise<void> {
    const answer = await stow(engine.dicomWebUrl, [readFileSync(path)]);
    expect(answer.status, `${path}: ${answer.text}`).toBe(200);
    const u = uids[path]!;
    try {
      await check(urlOf(path));
    } finally {
      for (const instance of engine.store.findInstances({ study: u.studyInstanceUID!, instance: u.sopInstanceUID! })) {
        engine.store.deleteResource('instance', instance.ids.instance);
      }
    }
  }

  it.each(SAMPLES)('decodes every frame of %s as the reference decoder does', async (name) => {
    const path = sample(name);
    const ts = uids[path]!.transferSyntaxUID!;
    const reference = referencePixels(path, referenceDecoderFor(ts));
    const signed = reference.bitsAllocated > 8 && readPixelRepresentation(path) === 1;
    const list = reference.frames.map((_, i) => i + 1).join(',');
    await withStored(path, async (url) => {
      for (const accept of [DECODED, `${DECODED}; transfer-syntax=${EXPLICIT_LE}`]) {
        const answer = await getMultipart(`${url}/frames/${list}`, accept);
        expect(answer.status, `${name} ${accept}: ${answer.text}`).toBe(200);
        expect(answer.type).toBe('application/octet-stream');
        expect(answer.parts).toHaveLength(reference.frames.length);
        answer.parts.forEach((part, i) => {
          expect(part.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${EXPLICIT_LE}`);
          expect(part.headers['content-location']).toBe(`${url}/frames/${i + 1}`);
          const expected = reference.frames[i]!;
          expect(part.body.length, `${name} frame ${i + 1} length`).toBe(expected.length);
          if (LOSSY.has(ts)) {
            expect(maxSampleDifference(part.body, expected, reference.bitsAllocated, signed), `${name} frame ${i + 1}`).toBeLessThanOrEqual(LOSSY_TOLERANCE);
          } else {
            expect(part.body.equals(expected), `${name} frame ${i + 1} equals the reference`).toBe(true);
          }
        });
      }
    });
  });

  it('answers /frames/1,2 of a multi-frame RLE instance decoded, and a single frame as a bare application/octet-stream', async () => {
    const path = sample('rtdose_rle.dcm');
    const reference = referencePixels(path, 'dcmtk');
    await withStored(path, async (url) => {
      const answer = await getMultipart(`${url}/frames/2,1,15`, DECODED);
      expect(answer.parts.map((p) => p.body)).toEqual([reference.frames[1], reference.frames[0], reference.frames[14]]);
      const single = await fetch(`${url}/frames/7`, { headers: { Accept: 'application/octet-stream' } });
      expect(single.status).toBe(200);
      expect(single.headers.get('content-type')).toBe(`application/octet-stream; transfer-syntax=${EXPLICIT_LE}`);
      expect(Buffer.from(await single.arrayBuffer()).equals(reference.frames[6]!)).toBe(true);
    });
  });

  it('still gives the stored bytes for transfer-syntax=*, the stored syntax and */*', async () => {
    const path = sample('SC_rgb_rle_2frame.dcm');
    const stored = pydicomFrames([path])[path]!;
    await withStored(path, async (url) => {
      for (const accept of [`${DECODED}; transfer-syntax=*`, `${DECODED}; transfer-syntax=1.2.840.10008.1.2.5`, '*/*']) {
        const answer = await getMultipart(`${url}/frames/1,2`, accept);
        expect(answer.parts.map((p) => p.headers['content-type']), accept).toEqual(Array(2).fill('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5'));
        expect(answer.parts.map((p) => p.body.toString('hex')), accept).toEqual(stored);
      }
    });
  });

  it('finds the frames of an instance by its Extended Offset Table', async () => {
    const reference = referencePixels(sample('SC_rgb_rle_2frame.dcm'), 'dcmtk');
    await withStored(crafted.rleExtendedOffsets, async (url) => {
      const answer = await getMultipart(`${url}/frames/1,2`, DECODED);
      expect(answer.parts.map((p) => p.body)).toEqual(reference.frames);
    });
  });

  describe('corrupt compressed data', () => {
    it('answers 400 naming the frame and the syntax when the first frame asked cannot be decoded, then keeps serving', async () => {
      for (const [path, ts] of [
        [crafted.rleBadFrame2, '1.2.840.10008.1.2.5'],
        [crafted.jpegBadFrame2, '1.2.840.10008.1.2.4.50'],
      ] as const) {
        await withStored(path, async (url) => {
          const response = await fetch(`${url}/frames/2`, { headers: { Accept: DECODED } });
          expect(response.status, path).toBe(400);
          const message = ((await response.json()) as { Message: string }).Message;
          expect(message).toContain('frame 2');
          expect(message).toContain(ts);
          // Frame 1 is intact and still decodes; the stored bytes of frame 2 are still served.
          expect((await getMultipart(`${url}/frames/1`, DECODED)).status).toBe(200);
          expect((await getMultipart(`${url}/frames/2`, `${DECODED}; transfer-syntax=*`)).status).toBe(200);
        });
      }
    });

    it('ends a multipart answer without its closing delimiter when a later frame fails, and keeps serving', async () => {
      await withStored(crafted.rleBadFrame2, async (url) => {
        const response = await fetch(`${url}/frames/1,2`, { headers: { Accept: DECODED } });
        expect(response.status).toBe(200);
        const { parts, failure } = await readPartsUntilFailure(response);
        expect(failure?.message).toMatch(/before the closing delimiter/);
        expect(parts).toHaveLength(1);
        expect((await fetch(`${engine.url}/system`)).status).toBe(200);
        expect((await getMultipart(`${url}/frames/1`, DECODED)).status).toBe(200);
      });
    });
  });

});

function readPixelRepresentation(path: string): number {
  return Number(execFileSync('/usr/bin/python3', ['-c', 'import sys, pydicom; print(pydicom.dcmread(sys.argv[1], stop_before_pixels=True).PixelRepresentation)', path]).toString().trim());
}
