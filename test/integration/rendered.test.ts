/**
 * WADO-RS Rendered and Thumbnail (PS3.18 10.4.1.1.3, 10.4.1.1.5) over real
 * HTTP: our PNGs decoded with sharp equal, pixel for pixel (±1 for rounding),
 * what test/support/renderOracle.py computes from pydicom's pixel_array with
 * the PS3.3 C.11 formulas; JPEG magic and sizes; viewport; Accept; errors;
 * the thumbnail cache on disk and its invalidation by DELETE.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbnailPath } from '../../main/pixels/thumbnailCache.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { at, maxDifference, rawPixels, referenceRendering, synthRenderFiles } from '../support/renderOracle.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { synthStudy, synthUid } from '../support/synth.js';
import { getMultipart } from './dicomwebHttp.js';

const ready = peerAvailable('python3-pydicom', havePydicomSamples);

interface Stored {
  path: string;
  study: string;
  series: string;
  sop: string;
  id: string;
}

describe.skipIf(!ready)(`rendered images and thumbnails${skipNote('python3-pydicom', havePydicomSamples)}`, () => {
  let engine: TestEngine;
  let dir: string;
  const files: Record<string, Stored> = {};
  const synth = synthStudy({ key: 'rendered-thumbs', patientID: 'THUMB1', patientName: 'THUMB^ONE', series: 2, instancesPerSeries: 3 });

  const url = (f: Stored, tail: string) => `${engine.dicomWebUrl}/studies/${f.study}/series/${f.series}/instances/${f.sop}${tail}`;
  const get = async (u: string, accept?: string) => {
    const res = await fetch(u, { headers: accept ? { Accept: accept } : {} });
    return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
  };
  const message = (body: Buffer) => (JSON.parse(body.toString('utf8')) as { Message: string }).Message;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rendered-test-'));
    const synthetic = synthRenderFiles(dir);
    const paths: Record<string, string> = {
      ct: sample('CT_small.dcm'),
      mr: sample('MR_small.dcm'),
      cr: join(sample('dicomdirtests'), '77654033', 'CR1', '6154'),
      rtdose: sample('rtdose.dcm'),
      ybr422: sample('SC_ybr_full_422_uncompressed.dcm'),
      sr: sample('test-SR.dcm'),
      rle: sample('MR_small_RLE.dcm'),
      jpegLs: sample('MR_small_jpeg_ls_lossless.dcm'),
      j2k: sample('MR_small_jp2klossless.dcm'),
      rgbRle: sample('SC_rgb_rle.dcm'),
      rgbJpeg: sample('SC_rgb_jpeg_dcmtk.dcm'),
      ...synthetic,
    };
    engine = await startTestEngine();
    const names = Object.keys(paths);
    const outcomes = await engine.store.storeInstances(names.map((n) => readFileSync(paths[n]!)));
    outcomes.forEach((o, i) => {
      if (!o.ok) throw new Error(`${names[i]} not stored: ${o.message}`);
      files[names[i]!] = { path: paths[names[i]!]!, study: o.studyInstanceUID, series: o.seriesInstanceUID, sop: o.sopInstanceUID, id: o.ids.instance };
    });
    expect((await engine.store.storeInstances(synth)).every((o) => o.ok)).toBe(true);

    // MR_small_RLE.dcm under another SOP Instance UID, its RLE header saying 99 segments (PS3.5 G.3.1 allows 15).
    const bytes = Buffer.from(readFileSync(paths.rle!));
    const uid = files.rle!.sop;
    const otherUid = uid.slice(0, -1) + (uid.endsWith('9') ? '8' : '9');
    for (let at = bytes.indexOf(uid); at >= 0; at = bytes.indexOf(uid, at + 1)) bytes.write(otherUid, at, 'latin1');
    const header = bytes.indexOf(Buffer.from([2, 0, 0, 0, 64, 0, 0, 0]));
    bytes.writeUInt32LE(99, header);
    const [corrupt] = await engine.store.storeInstances([bytes]);
    if (!corrupt?.ok) throw new Error('corrupt RLE copy not stored');
    files.corruptRle = { path: '', study: corrupt.studyInstanceUID, series: corrupt.seriesInstanceUID, sop: corrupt.sopInstanceUID, id: corrupt.ids.instance };
  });
  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function expectLikeReference(name: string, tail: string, frame = 1, window?: [number, number, string]) {
    const res = await get(url(files[name]!, tail), 'image/png');
    expect(res.status, res.body.toString().slice(0, 300)).toBe(200);
    expect(res.type).toBe('image/png');
    const ours = await rawPixels(res.body);
    const reference = referenceRendering(files[name]!.path, frame, window);
    expect(maxDifference(ours, reference), name).toBeLessThanOrEqual(1);
    return { ours, reference };
  }

  it('renders CT_small with window=40,400 and its rescale (-1024) as pydicom computes it', async () => {
    const { ours, reference } = await expectLikeReference('ct', '/rendered?window=40,400', 1, [40, 400, 'linear']);
    // Chosen points: air (black), soft tissue (grey), and the centre.
    for (const [x, y] of [[0, 0], [64, 64], [40, 90], [100, 30]] as const) expect(Math.abs(at(ours, x, y) - at(reference, x, y))).toBeLessThanOrEqual(1);
    expect(at(ours, 0, 0)).toBe(0);
    const distinct = new Set(ours.data);
    expect(distinct.size).toBeGreaterThan(20);
  });

  it('renders CT_small without a window from the min/max of the rescaled pixels', async () => {
    const { ours } = await expectLikeReference('ct', '/rendered');
    expect(Math.min(...ours.data)).toBe(0);
    expect(Math.max(...ours.data)).toBe(255);
  });

  it("renders MR_small with the file's window (600/1600), and with window=…,sigmoid", async () => {
    await expectLikeReference('mr', '/rendered');
    await expectLikeReference('mr', '/rendered?window=500,900,sigmoid', 1, [500, 900, 'sigmoid']);
    await expectLikeReference('mr', '/frames/1/rendered?window=300.5,200,linear-exact', 1, [300.5, 200, 'linear-exact']);
  });

  it('inverts MONOCHROME1 (CR 6154: 12 of 16 bits, rescale 0.684/200, window 1600/2800)', async () => {
    const { ours, reference } = await expectLikeReference('cr', '/rendered');
    // Inverted: the reference computes 255 - window(x); a non-inverted rendering would be far off.
    const flipped = { ...reference, pixels: Buffer.from(reference.pixels.map((v) => 255 - v)) };
    expect(maxDifference(ours, flipped)).toBeGreaterThan(10);
  });

  it('renders signed 12-bit data (garbage above High Bit ignored) with the first of two windows and VOI LUT Function SIGMOID', async () => {
    await expectLikeReference('signed12', '/rendered');
  });

  it('applies a Modality LUT Sequence (US table, values on both sides of its range) instead of a rescale', async () => {
    const { ours } = await expectLikeReference('modality_lut', '/rendered');
    expect(new Set(ours.data).size).toBeGreaterThan(50);
    await expectLikeReference('modality_lut', '/rendered?window=20000,30000', 1, [20000, 30000, 'linear']);
  });

  it('applies the VOI LUT Sequence (OW table read from the file) when there is no window; a window, given or in the file, wins', async () => {
    const { ours } = await expectLikeReference('voi_lut', '/rendered');
    // Inputs below 500 take the first entry (27 of 4095 → 2), above 3499 the last.
    expect(Math.min(...ours.data)).toBe(2);
    expect(Math.max(...ours.data)).toBeGreaterThan(250);
    await expectLikeReference('voi_lut', '/frames/1/rendered?window=1000,500', 1, [1000, 500, 'linear']);
    const windowed = await expectLikeReference('voi_lut_and_window', '/rendered');
    expect(maxDifference(windowed.ours, referenceRendering(files.voi_lut!.path, 1))).toBeGreaterThan(10);
  });

  it('renders RGB (stored planar), YBR_FULL and YBR_FULL_422 (converted to RGB) and PALETTE COLOR (8- and 16-bit entries)', async () => {
    for (const name of ['rgb_planar', 'ybr_full', 'ybr422', 'palette8', 'palette16']) await expectLikeReference(name, '/rendered');
  });

  it('renders compressed frames (RLE, JPEG-LS, JPEG 2000 lossless; RGB RLE) as pydicom decodes and renders them', async () => {
    for (const name of ['rle', 'jpegLs', 'j2k', 'rgbRle']) await expectLikeReference(name, '/rendered');
  });

  it('renders a lossy JPEG (YBR_FULL_422 in the file) within the decoders’ difference', async () => {
    const res = await get(url(files.rgbJpeg!, '/rendered'), 'image/png');
    expect(res.status).toBe(200);
    const ours = await rawPixels(res.body);
    expect(maxDifference(ours, referenceRendering(files.rgbJpeg!.path))).toBeLessThanOrEqual(8);
  });

  it('answers a corrupt compressed frame with an error naming the frame and the transfer syntax, and keeps serving', async () => {
    for (const tail of ['/rendered', '/thumbnail']) {
      const res = await get(url(files.corruptRle!, tail));
      expect([400, 406]).toContain(res.status);
      expect(message(res.body)).toContain(`frame 1 of instance ${files.corruptRle!.sop}`);
      expect(message(res.body)).toContain('1.2.840.10008.1.2.5');
    }
    expect((await get(url(files.rle!, '/rendered'))).status).toBe(200);
  });

  it('renders frame 3 of a 32-bit multi-frame RT dose from its own min/max', async () => {
    const third = await expectLikeReference('rtdose', '/frames/3/rendered', 3);
    const first = referenceRendering(files.rtdose!.path, 1);
    expect(maxDifference(third.ours, first)).toBeGreaterThan(0);
  });

  it('answers image/jpeg by default (FF D8, the image size), with Accept image/* and with the accept query parameter', async () => {
    for (const [tail, accept] of [['/rendered', undefined], ['/rendered', 'image/*'], ['/rendered?accept=image/jpeg', 'image/png'], ['/rendered?quality=20', '*/*']] as const) {
      const res = await get(url(files.mr!, tail), accept);
      expect(res.status).toBe(200);
      expect(res.type).toBe('image/jpeg');
      expect([...res.body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      const meta = await sharp(res.body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 64, 64]);
    }
    const low = await get(url(files.ct!, '/rendered?quality=5'));
    const high = await get(url(files.ct!, '/rendered?quality=100'));
    expect(low.body.length).toBeLessThan(high.body.length);
  });

  it('honours viewport: fits inside keeping the aspect ratio, one side may be omitted, a source region crops', async () => {
    const size = async (f: Stored, tail: string) => {
      const res = await get(url(f, tail), 'image/png');
      expect(res.status, res.body.toString().slice(0, 200)).toBe(200);
      const meta = await sharp(res.body).metadata();
      return [meta.width, meta.height];
    };
    expect(await size(files.mr!, '/rendered?viewport=32,32')).toEqual([32, 32]);
    expect(await size(files.rgb_planar!, '/rendered?viewport=64,64')).toEqual([64, 32]);
    expect(await size(files.rgb_planar!, '/rendered?viewport=,16')).toEqual([32, 16]);
    expect(await size(files.rgb_planar!, '/rendered?viewport=256,')).toEqual([256, 128]);
    // Source region 16,8 32x16 at scale 1: the pixels of that region.
    const res = await get(url(files.rgb_planar!, '/rendered?viewport=32,16,16,8,32,16'), 'image/png');
    const ours = await rawPixels(res.body);
    const reference = referenceRendering(files.rgb_planar!.path);
    expect([ours.width, ours.height]).toEqual([32, 16]);
    for (const [x, y] of [[0, 0], [31, 15], [10, 5]] as const) {
      for (let c = 0; c < 3; c++) expect(at(ours, x, y, c)).toBe(at(reference, x + 16, y + 8, c));
    }
  });

  it('answers 406 naming image/jpeg and image/png for other media types, and for an instance without pixel data', async () => {
    const gif = await get(url(files.mr!, '/rendered'), 'image/gif');
    expect(gif.status).toBe(406);
    expect(message(gif.body)).toMatch(/image\/jpeg.*image\/png/);
    const sr = await get(url(files.sr!, '/rendered'));
    expect(sr.status).toBe(406);
    expect(message(sr.body)).toContain(`instance ${files.sr!.sop}`);
    expect(message(sr.body)).toContain('has no pixel data');
  });

  it('answers 404 for a frame beyond the last and 400 for bad parameters, and keeps serving', async () => {
    const beyond = await get(url(files.rtdose!, '/frames/16/rendered'));
    expect(beyond.status).toBe(404);
    expect(message(beyond.body)).toContain('frame 16 does not exist');
    for (const [tail, text] of [
      ['/rendered?window=40', /center,width/],
      ['/rendered?window=40,0', /width 0 is not allowed for linear/],
      ['/rendered?window=40,400,cubic', /linear, linear-exact or sigmoid/],
      ['/rendered?viewport=0,10', /vw must be an integer/],
      ['/rendered?viewport=,', /give vw, vh or both/],
      ['/rendered?quality=101', /'quality' must be an integer from 1 to 100/],
      ['/frames/1,2/rendered', /one frame number/],
    ] as const) {
      const res = await get(url(files.mr!, tail));
      expect(res.status, tail).toBe(400);
      expect(message(res.body)).toMatch(text);
    }
    expect((await get(url(files.mr!, '/rendered'))).status).toBe(200);
  });

  it('renders a series as multipart/related of each instance’s first frame, in instance order', async () => {
    const study = synthUid('rendered-thumbs', 1);
    const series = synthUid('rendered-thumbs', 2, 2);
    const answer = await getMultipart(`${engine.dicomWebUrl}/studies/${study}/series/${series}/rendered`, 'multipart/related; type="image/png"');
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('image/png');
    expect(answer.parts.map((p) => p.headers['content-location']?.split('/instances/')[1])).toEqual([1, 2, 3].map((i) => `${synthUid('rendered-thumbs', 3, 2, i)}/rendered`));
    for (const part of answer.parts) expect((await sharp(part.body).metadata()).format).toBe('png');
    const wholeStudy = await getMultipart(`${engine.dicomWebUrl}/studies/${study}/rendered`);
    expect(wholeStudy.type).toBe('image/jpeg');
    expect(wholeStudy.parts).toHaveLength(6);
  });

  it('caches a thumbnail on disk: the second request is served from the cache file, a corrupt file is recomputed, DELETE removes it', async () => {
    const f = files.mr!;
    const [instance] = engine.store.findInstances({ study: f.study, series: f.series, instance: f.sop });
    const cacheFile = thumbnailPath(engine.store.storageDirectory, instance!, 1, { mediaType: 'image/jpeg', viewport: { width: 128, height: 128 }, quality: 80 });
    expect(existsSync(cacheFile)).toBe(false);

    const first = await get(url(f, '/thumbnail'));
    expect(first.status).toBe(200);
    expect(first.type).toBe('image/jpeg');
    expect(existsSync(cacheFile)).toBe(true);
    expect(readFileSync(cacheFile).equals(first.body)).toBe(true);
    const meta = await sharp(first.body).metadata();
    expect([meta.width, meta.height]).toEqual([128, 128]);

    // A different (valid) JPEG put in the cache file is what the next request gets: it came from the cache.
    const marker = await sharp({ create: { width: 7, height: 5, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
    writeFileSync(cacheFile, marker);
    expect((await get(url(f, '/thumbnail'))).body.equals(marker)).toBe(true);

    // A cut file is not served: rendered again and stored again.
    writeFileSync(cacheFile, first.body.subarray(0, first.body.length >> 1));
    const again = await get(url(f, '/thumbnail'));
    expect(again.body.equals(first.body)).toBe(true);
    expect(readFileSync(cacheFile).equals(first.body)).toBe(true);

    // Other parameters, other cache file; a PNG thumbnail.
    const png = await get(url(f, '/frames/1/thumbnail?viewport=32,32'), 'image/png');
    expect(png.type).toBe('image/png');
    expect((await sharp(png.body).metadata()).width).toBe(32);

    const deleted = await fetch(`${engine.url}/instances/${f.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(existsSync(cacheFile)).toBe(false);
    expect(existsSync(dirname(cacheFile))).toBe(false);
    expect((await get(url(f, '/thumbnail'))).status).toBe(404);
  });

  it('makes a study or series thumbnail from the middle instance of the first series', async () => {
    const study = synthUid('rendered-thumbs', 1);
    const res = await get(`${engine.dicomWebUrl}/studies/${study}/thumbnail`);
    expect(res.status).toBe(200);
    expect([...res.body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const params = { mediaType: 'image/jpeg' as const, viewport: { width: 128, height: 128 }, quality: 80 };
    const [middle] = engine.store.findInstances({ study, instance: synthUid('rendered-thumbs', 3, 1, 2) });
    expect(existsSync(thumbnailPath(engine.store.storageDirectory, middle!, 1, params))).toBe(true);

    const series2 = synthUid('rendered-thumbs', 2, 2);
    expect((await get(`${engine.dicomWebUrl}/studies/${study}/series/${series2}/thumbnail`)).status).toBe(200);
    const [middle2] = engine.store.findInstances({ study, instance: synthUid('rendered-thumbs', 3, 2, 2) });
    expect(existsSync(thumbnailPath(engine.store.storageDirectory, middle2!, 1, params))).toBe(true);

    // Deleting the study removes its thumbnails.
    const deleted = await fetch(`${engine.url}/studies/${middle!.ids.study}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(existsSync(thumbnailPath(engine.store.storageDirectory, middle!, 1, params))).toBe(false);
    expect(existsSync(thumbnailPath(engine.store.storageDirectory, middle2!, 1, params))).toBe(false);
  });

  it('answers 406 for the thumbnail of a study with no image', async () => {
    const res = await get(`${engine.dicomWebUrl}/studies/${files.sr!.study}/thumbnail`);
    expect(res.status).toBe(406);
    expect(message(res.body)).toContain('has no instance with pixel data');
  });
});
