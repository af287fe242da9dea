/**
 * Transcoding to Explicit VR Little Endian (PS3.18 8.7.3.5.2, 10.4; issue 4
 * §1): WADO-RS retrieve with transfer-syntax=1.2.840.10008.1.2.1 and WADO-URI
 * transferSyntax=1.2.840.10008.1.2.1 over real HTTP. Each transcoded file is
 * read by pydicom (syntax, every attribute but the pixel description equal to
 * the original's, pixels equal to another project's decoding of the original:
 * dcmtk or GDCM; lossless exactly, lossy within LOSSY_TOLERANCE), by dcmtk's
 * dcmdump without errors, and stored by a real Orthanc (POST /instances).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { haveOrthanc, ORTHANC_PACKAGES, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { peerAvailable } from '../support/peers.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { getMultipart, readPartsUntilFailure, pydicomUids, stow } from './dicomwebHttp.js';
import { haveReferenceDecoders, maxSampleDifference, referenceDecoderFor, referencePixels, writeCraftedInstances, type CraftedInstances } from './pixelReference.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const AS_EXPLICIT_LE = `multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`;
/** As in wadoRsDecodedFrames.test.ts: two JPEG decoders may differ by a few steps. */
const LOSSY_TOLERANCE = 3;
const LOSSY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.81']);
/** What transcoding may change: the pixel description and data, the offset tables, the retired group lengths. */
const CHANGED = new Set(['7FE00010', '00280004', '00280006', '7FE00001', '7FE00002', '00280000', '7FE00000']);

const SAMPLES = [
  'SC_rgb_rle_2frame.dcm', // RLE, RGB, 2 frames
  'rtdose_rle.dcm', // RLE, 32-bit, 15 frames
  'MR_small_RLE.dcm', // RLE, signed 16-bit
  'SC_rgb_dcmtk_+eb+cy+np.dcm', // JPEG baseline YBR_FULL_422 → RGB
  'JPEG-lossy.dcm', // JPEG extended 12-bit
  'SC_rgb_jpeg_gdcm.dcm', // JPEG lossless SV1
  'MR_small_jpeg_ls_lossless.dcm', // JPEG-LS
  'MR_small_jp2klossless.dcm', // JPEG 2000 lossless
  'GDCMJ2K_TextGBR.dcm', // JPEG 2000, YBR_RCT → RGB
  'JPEG2000.dcm', // JPEG 2000 lossy
  'image_dfl.dcm', // deflated explicit VR little endian
];

const haveDcmtkAndGdcm = haveReferenceDecoders;
const ready = havePydicomSamples && haveDcmtkAndGdcm;
const withOrthanc = ready && peerAvailable(ORTHANC_PACKAGES, haveOrthanc());

interface PydicomView {
  transferSyntaxUID: string;
  dataset: Record<string, unknown>;
  bulk: Record<string, unknown>;
}

/** pydicom's view of files (test/support/pydicomJson.py) plus the transfer syntax. */
function pydicomView(paths: string[]): Record<string, PydicomView> {
  const script = new URL('../support/pydicomJson.py', import.meta.url).pathname;
  const described = JSON.parse(execFileSync('/usr/bin/python3', [script, ...paths], { maxBuffer: 256 * 1024 * 1024 }).toString()) as Record<
    string,
    { dataset: Record<string, unknown>; bulk: Record<string, unknown>; error?: string }
  >;
  const uids = pydicomUids(paths);
  const out: Record<string, PydicomView> = {};
  for (const path of paths) {
    const d = described[path]!;
    if (d.error) throw new Error(`pydicom cannot read ${path}: ${d.error}`);
    out[path] = { transferSyntaxUID: uids[path]!.transferSyntaxUID!, dataset: d.dataset, bulk: d.bulk };
  }
  return out;
}

function without(record: Record<string, unknown>, keys: Set<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !keys.has(k)));
}

function numberValue(view: PydicomView, key: string): number | undefined {
  return ((view.dataset[key] as { Value?: number[] } | undefined)?.Value ?? [])[0];
}

describe.skipIf(!ready)('transcoding to Explicit VR Little Endian', () => {
  let engine: TestEngine;
  let orthanc: RunningOrthanc | undefined;
  let work: string;
  let crafted: CraftedInstances;
  let uids: ReturnType<typeof pydicomUids>;

  beforeAll(async () => {
    engine = await startTestEngine();
    work = mkdtempSync(join(tmpdir(), 'transcode-'));
    crafted = writeCraftedInstances(work, sample);
    uids = pydicomUids([...SAMPLES.map(sample), crafted.rleExtendedOffsets, crafted.rleWithUnSequence, crafted.rleGood, crafted.rleBadFrame1, ...crafted.mixedStudy, sample('MR_small_implicit.dcm')]);
    if (withOrthanc) orthanc = await startOrthanc();
  }, 60_000);
  afterAll(async () => {
    await orthanc?.close();
    await engine?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const instanceUrl = (path: string) => {
    const u = uids[path]!;
    return `${engine.dicomWebUrl}/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}/instances/${u.sopInstanceUID}`;
  };

  async function withStored(paths: string[], check: () => Promise<void>): Promise<void> {
    const answer = await stow(engine.dicomWebUrl, paths.map((p) => readFileSync(p)));
    expect(answer.status, answer.text).toBe(200);
    try {
      await check();
    } finally {
      for (const path of paths) {
        const u = uids[path]!;
        for (const instance of engine.store.findInstances({ study: u.studyInstanceUID!, instance: u.sopInstanceUID! })) {
          engine.store.deleteResource('instance', instance.ids.instance);
        }
      }
    }
  }

  /** Checks one transcoded file against its original (written under work/ for the readers). */
  async function checkTranscoded(original: string, bytes: Buffer, label: string): Promise<void> {
    const file = join(work, `${label.replace(/[^A-Za-z0-9_.+-]/g, '_')}.transcoded.dcm`);
    writeFileSync(file, bytes);
    const views = pydicomView([original, file]);
    const before = views[original]!;
    const after = views[file]!;
    expect(after.transferSyntaxUID, label).toBe(EXPLICIT_LE);
    expect(without(after.dataset, CHANGED), `${label}: attributes other than the pixel description`).toEqual(without(before.dataset, CHANGED));
    expect(without(after.bulk, new Set(['7FE00010', '7FE00001', '7FE00002'])), `${label}: bulk values`).toEqual(without(before.bulk, new Set(['7FE00010', '7FE00001', '7FE00002'])));

    const reference = referencePixels(original, referenceDecoderFor(before.transferSyntaxUID));
    const ours = referencePixels(file, 'pydicom');
    expect(ours.photometricInterpretation, `${label}: PhotometricInterpretation`).toBe(reference.photometricInterpretation);
    if (ours.samplesPerPixel > 1) expect(numberValue(after, '00280006'), `${label}: PlanarConfiguration`).toBe(0);
    expect(ours.frames.length).toBe(reference.frames.length);
    const signed = numberValue(before, '00280103') === 1;
    ours.frames.forEach((frame, i) => {
      if (LOSSY.has(before.transferSyntaxUID)) {
        expect(maxSampleDifference(frame, reference.frames[i]!, reference.bitsAllocated, signed), `${label} frame ${i + 1}`).toBeLessThanOrEqual(LOSSY_TOLERANCE);
      } else {
        expect(frame.equals(reference.frames[i]!), `${label} frame ${i + 1} equals the reference`).toBe(true);
      }
    });

    const dump = spawnSync('/usr/bin/dcmdump', [file], { encoding: 'utf8' });
    expect(dump.status, `${label}: dcmdump ${dump.stderr}`).toBe(0);
    expect(dump.stderr, `${label}: dcmdump errors`).not.toMatch(/^E:/m);

    if (orthanc) {
      const stored = await fetch(`${orthanc.url}/instances`, { method: 'POST', body: bytes });
      const text = await stored.text();
      expect(stored.status, `${label}: Orthanc ${text}`).toBe(200);
      expect((JSON.parse(text) as { Status: string }).Status).toMatch(/^(Success|AlreadyStored)$/);
    }
  }

  it.each(SAMPLES)('transcodes %s: pydicom, dcmdump and Orthanc read it; pixels equal the reference decoding', async (name) => {
    const path = sample(name);
    await withStored([path], async () => {
      const answer = await getMultipart(instanceUrl(path), AS_EXPLICIT_LE);
      expect(answer.status, `${name}: ${answer.text}`).toBe(200);
      expect(answer.type).toBe('application/dicom');
      expect(answer.parts).toHaveLength(1);
      const part = answer.parts[0]!;
      expect(part.headers['content-type']).toBe(`application/dicom; transfer-syntax=${EXPLICIT_LE}`);
      expect(Number(part.headers['content-length'])).toBe(part.body.length);
      await checkTranscoded(path, part.body, name);
    });
  });

  it('drops the Extended Offset Table and keeps the frames it pointed to', async () => {
    await withStored([crafted.rleExtendedOffsets], async () => {
      const response = await fetch(instanceUrl(crafted.rleExtendedOffsets), { headers: { Accept: `application/dicom; transfer-syntax=${EXPLICIT_LE}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(`application/dicom; transfer-syntax=${EXPLICIT_LE}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      await checkTranscoded(crafted.rleExtendedOffsets, bytes, 'rleExtendedOffsets');
      expect(bytes.includes(Buffer.from([0xe0, 0x7f, 0x01, 0x00]))).toBe(false); // no (7FE0,0001) tag
    });
  });

  it('copies a UN element of undefined length (implicit VR items, PS3.5 6.2.2) as stored', async () => {
    await withStored([crafted.rleWithUnSequence], async () => {
      const answer = await getMultipart(instanceUrl(crafted.rleWithUnSequence), AS_EXPLICIT_LE);
      expect(answer.status, answer.text).toBe(200);
      const bytes = answer.parts[0]!.body;
      await checkTranscoded(crafted.rleWithUnSequence, bytes, 'rleWithUnSequence');
      // The element's header with its undefined length, and its items, byte for byte.
      const original = readFileSync(crafted.rleWithUnSequence);
      const at = original.indexOf(Buffer.from('29001010554e0000ffffffff', 'hex'));
      expect(at).toBeGreaterThan(0);
      expect(bytes.includes(original.subarray(at, at + 12 + 8 + 12 + 16))).toBe(true);
    });
  });

  it('answers a study of RLE, JPEG and native instances in order, the native one as stored', async () => {
    const [rle, jpeg, native] = crafted.mixedStudy as [string, string, string];
    await withStored(crafted.mixedStudy, async () => {
      const u = uids[rle]!;
      const answer = await getMultipart(`${engine.dicomWebUrl}/studies/${u.studyInstanceUID}`, AS_EXPLICIT_LE);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.parts).toHaveLength(3);
      expect(answer.parts.map((p) => p.headers['content-location'])).toEqual([rle, jpeg, native].map(instanceUrl));
      expect(answer.parts.every((p) => p.headers['content-type'] === `application/dicom; transfer-syntax=${EXPLICIT_LE}`)).toBe(true);
      await checkTranscoded(rle, answer.parts[0]!.body, 'mixed-rle');
      await checkTranscoded(jpeg, answer.parts[1]!.body, 'mixed-jpeg');
      expect(answer.parts[2]!.body.equals(readFileSync(native))).toBe(true);
      // Without transfer-syntax, and with *, everything comes as stored.
      for (const accept of ['multipart/related; type="application/dicom"', 'multipart/related; type="application/dicom"; transfer-syntax=*']) {
        const stored = await getMultipart(`${engine.dicomWebUrl}/studies/${u.studyInstanceUID}`, accept);
        expect(stored.parts.map((p) => p.body.equals(readFileSync([rle, jpeg, native][stored.parts.indexOf(p)]!)))).toEqual([true, true, true]);
      }
    });
  });

  it('answers WADO-URI transferSyntax=1.2.840.10008.1.2.1 with the transcoded file', async () => {
    const path = sample('SC_rgb_rle_2frame.dcm');
    await withStored([path], async () => {
      const u = uids[path]!;
      const response = await fetch(
        `${engine.url}/wado?requestType=WADO&studyUID=${u.studyInstanceUID}&objectUID=${u.sopInstanceUID}&contentType=application/dicom&transferSyntax=${EXPLICIT_LE}`,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/dicom');
      await checkTranscoded(path, Buffer.from(await response.arrayBuffer()), 'wado-uri');
      const other = await fetch(`${engine.url}/wado?requestType=WADO&studyUID=${u.studyInstanceUID}&objectUID=${u.sopInstanceUID}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.4.50`);
      expect(other.status).toBe(406);
      expect(((await other.json()) as { Message: string }).Message).toContain('1.2.840.10008.1.2.5');
    });
  });

  it('answers 406 naming the syntax for an implicit VR instance asked as explicit (not re-encoded)', async () => {
    const path = sample('MR_small_implicit.dcm');
    await withStored([path], async () => {
      const response = await fetch(instanceUrl(path), { headers: { Accept: AS_EXPLICIT_LE } });
      expect(response.status).toBe(406);
      expect(((await response.json()) as { Message: string }).Message).toContain('1.2.840.10008.1.2 cannot be transcoded');
    });
  });

  it('answers 400 naming the frame for a corrupt instance, cuts a series answer at a corrupt later instance, and keeps serving', async () => {
    await withStored([crafted.rleGood, crafted.rleBadFrame1], async () => {
      const bad = await fetch(instanceUrl(crafted.rleBadFrame1), { headers: { Accept: AS_EXPLICIT_LE } });
      expect(bad.status).toBe(400);
      const message = ((await bad.json()) as { Message: string }).Message;
      expect(message).toContain('frame 1');
      expect(message).toContain('1.2.840.10008.1.2.5');

      const u = uids[crafted.rleGood]!;
      const response = await fetch(`${engine.dicomWebUrl}/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}`, { headers: { Accept: AS_EXPLICIT_LE } });
      expect(response.status).toBe(200);
      const { parts, failure } = await readPartsUntilFailure(response);
      expect(failure?.message).toMatch(/before the closing delimiter/);
      expect(parts).toHaveLength(1);
      await checkTranscoded(crafted.rleGood, parts[0]!, 'before-corrupt');

      expect((await fetch(`${engine.url}/system`)).status).toBe(200);
      expect((await getMultipart(instanceUrl(crafted.rleGood), AS_EXPLICIT_LE)).status).toBe(200);
    });
  });
});
