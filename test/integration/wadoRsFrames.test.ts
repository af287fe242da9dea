/**
 * WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4) over real HTTP: the frames of
 * real samples — native little and big endian, 1-bit, 32-bit multi-frame,
 * YBR_FULL_422, deflated, and encapsulated RLE/JPEG/JPEG 2000 — equal
 * pydicom's frame bytes; Accept and frame list errors.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { getMultipart, pydicomFrames, pydicomUids, stow, type PydicomUids } from './dicomwebHttp.js';

const NATIVE = [
  'CT_small.dcm',
  'MR_small.dcm',
  'MR_small_implicit.dcm',
  'MR_small_bigendian.dcm',
  'MR_small_expb.dcm',
  'ExplVR_BigEnd.dcm', // RGB, planar configuration 1, big endian
  'rtdose.dcm', // 32-bit, 15 frames, implicit VR
  'rtdose_expb.dcm', // 32-bit, 15 frames, big endian
  'liver_1frame.dcm', // 1-bit
  'liver_expb_1frame.dcm', // 1-bit, big endian
  'SC_rgb_small_odd.dcm',
  'SC_ybr_full_422_uncompressed.dcm',
  'image_dfl.dcm', // deflated
];
const ENCAPSULATED = [
  'SC_rgb_rle_2frame.dcm',
  'SC_rgb_rle_32bit_2frame.dcm',
  'rtdose_rle.dcm', // 15 frames
  'MR_small_jp2klossless.dcm',
  'JPEG2000.dcm',
  'SC_rgb_jpeg_gdcm.dcm',
  'JPEG-lossy.dcm',
  'MR_small_jpeg_ls_lossless.dcm',
];
const ANY_OCTETS = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

let engine: TestEngine;
let expected: Record<string, string[]>;
let uids: Record<string, PydicomUids | null>;

beforeAll(async () => {
  engine = await startTestEngine();
  const paths = [...NATIVE, ...ENCAPSULATED].map(sample);
  expected = pydicomFrames(paths);
  uids = pydicomUids(paths);
});
afterAll(async () => {
  await engine?.close();
});

function instanceUrlOf(name: string): string {
  const u = uids[sample(name)]!;
  return `${engine.dicomWebUrl}/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}/instances/${u.sopInstanceUID}`;
}

/** Stores one sample alone (several samples share a SOP Instance UID), runs `check`, deletes it. */
async function withStored(name: string, check: (url: string) => Promise<void>): Promise<void> {
  const answer = await stow(engine.dicomWebUrl, [readFileSync(sample(name))]);
  expect(answer.status, `${name}: ${answer.text}`).toBe(200);
  const u = uids[sample(name)]!;
  try {
    await check(instanceUrlOf(name));
  } finally {
    for (const instance of engine.store.findInstances({ study: u.studyInstanceUID!, instance: u.sopInstanceUID! })) {
      engine.store.deleteResource('instance', instance.ids.instance);
    }
  }
}

const frameList = (count: number) => Array.from({ length: count }, (_, i) => i + 1).join(',');

describe('Retrieve Frames', () => {
  it.each(NATIVE)('gives the frames of native %s as pydicom reads them, little endian', async (name) => {
    const frames = expected[sample(name)]!;
    await withStored(name, async (url) => {
      for (const accept of [undefined, ANY_OCTETS, 'multipart/related; type="application/octet-stream"']) {
        const answer = await getMultipart(`${url}/frames/${frameList(frames.length)}`, accept);
        expect(answer.status, `${name} ${accept}: ${answer.text}`).toBe(200);
        expect(answer.type).toBe('application/octet-stream');
        expect(answer.parts).toHaveLength(frames.length);
        answer.parts.forEach((part, i) => {
          expect(part.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
          expect(part.body.toString('hex'), `${name} frame ${i + 1}`).toBe(frames[i]);
        });
      }
    });
  });

  it.each(ENCAPSULATED)('gives the frames of encapsulated %s as stored, with the stored transfer syntax', async (name) => {
    const frames = expected[sample(name)]!;
    const ts = uids[sample(name)]!.transferSyntaxUID!;
    await withStored(name, async (url) => {
      for (const accept of [ANY_OCTETS, `multipart/related; type="application/octet-stream"; transfer-syntax=${ts}`, '*/*']) {
        const answer = await getMultipart(`${url}/frames/${frameList(frames.length)}`, accept);
        expect(answer.status, `${name} ${accept}: ${answer.text}`).toBe(200);
        expect(answer.parts).toHaveLength(frames.length);
        answer.parts.forEach((part, i) => {
          expect(part.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${ts}`);
          expect(part.body.toString('hex'), `${name} frame ${i + 1}`).toBe(frames[i]);
        });
      }
      // application/octet-stream without transfer-syntax means uncompressed: decoded (wadoRsDecodedFrames.test.ts checks the pixels).
      const decoded = await getMultipart(`${url}/frames/1`, 'multipart/related; type="application/octet-stream"');
      expect(decoded.status, decoded.text).toBe(200);
      expect(decoded.parts[0]!.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    });
  });

  it('gives JPEG frames as image/jpeg when the client asks for it', async () => {
    await withStored('SC_rgb_jpeg_gdcm.dcm', async (url) => {
      const answer = await getMultipart(`${url}/frames/1`, 'multipart/related; type="image/jpeg"');
      expect(answer.status).toBe(200);
      expect(answer.type).toBe('image/jpeg');
      expect(answer.parts[0]!.headers['content-type']).toBe('image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.70');
      expect(answer.parts[0]!.body.toString('hex')).toBe(expected[sample('SC_rgb_jpeg_gdcm.dcm')]![0]);
      expect(answer.parts[0]!.body.subarray(0, 2).toString('hex')).toBe('ffd8'); // JPEG SOI
    });
  });

  it('gives frames in the order asked, repeats included, and one bare frame when application/octet-stream is asked', async () => {
    const name = 'rtdose.dcm';
    const frames = expected[sample(name)]!;
    await withStored(name, async (url) => {
      const answer = await getMultipart(`${url}/frames/15,1,7,1`);
      expect(answer.parts.map((p) => p.body.toString('hex'))).toEqual([frames[14], frames[0], frames[6], frames[0]]);
      expect(answer.parts[0]!.headers['content-location']).toBe(`${url}/frames/15`);
      const single = await fetch(`${url}/frames/3`, { headers: { Accept: 'application/octet-stream' } });
      expect(single.headers.get('content-type')).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
      expect(Buffer.from(await single.arrayBuffer()).toString('hex')).toBe(frames[2]);
    });
  });

  it('answers 404 naming the frame and the count for frames out of range, 400 for a bad list', async () => {
    await withStored('rtdose.dcm', async (url) => {
      const out = await fetch(`${url}/frames/1,16`);
      expect(out.status).toBe(404);
      const message = ((await out.json()) as { Message: string }).Message;
      expect(message).toContain('frame 16');
      expect(message).toContain('15 frames');
      for (const bad of ['0', 'a', '1,,2', '-1', '1.5']) {
        expect((await fetch(`${url}/frames/${bad}`)).status, bad).toBe(400);
      }
    });
  });

  it('answers 406 when only compressed frames are asked of native data', async () => {
    await withStored('CT_small.dcm', async (url) => {
      const response = await fetch(`${url}/frames/1`, { headers: { Accept: 'multipart/related; type="image/jpeg"' } });
      expect(response.status).toBe(406);
      expect(((await response.json()) as { Message: string }).Message).toContain('1.2.840.10008.1.2.1');
    });
  });

  it('answers 404 for the frames of an instance without pixel data', async () => {
    const name = 'rtplan.dcm';
    const u = pydicomUids([sample(name)])[sample(name)]!;
    const answer = await stow(engine.dicomWebUrl, [readFileSync(sample(name))]);
    expect(answer.status).toBe(200);
    const response = await fetch(`${engine.dicomWebUrl}/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}/instances/${u.sopInstanceUID}/frames/1`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { Message: string }).Message).toContain('no pixel data');
  });
});
