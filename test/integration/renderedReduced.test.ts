/**
 * Rendered images and thumbnails of JPEG 2000 instances shown smaller than
 * they are (main/pixels/decodeFrame.ts `shown`), over real HTTP: the same
 * 512x512 slice stored twice, in Explicit VR Little Endian and as JPEG 2000
 * lossless (opj_compress). Where the JPEG 2000 frame is decoded whole (no
 * viewport, a source region) both answers are identical; where it is shown
 * smaller (thumbnail, viewport, WADO-URI rows/columns) it is decoded at a
 * lower resolution: the answer has the same size as the native one, differs
 * from it (so the lower resolution was used) and stays close to it. Then
 * real JPEG 2000 files from pydicom's samples, shown smaller, against their
 * whole frame scaled.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { haveOpenjpegTools, havePythonGdcm } from '../support/pixelFiles.js';
import { rawPixels, type Raw } from '../support/renderOracle.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { synthJpeg2000File, synthNativeFile, type SynthSpec } from '../support/synthPixelFiles.js';

interface Stored {
  study: string;
  series: string;
  sop: string;
}

describe.skipIf(!(havePythonGdcm && haveOpenjpegTools))('JPEG 2000 rendered smaller than it is', () => {
  let engine: TestEngine;
  let dir: string;
  let native: Stored;
  let j2k: Stored;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rendered-reduced-'));
    const spec: SynthSpec = { rows: 512, columns: 512, samples: 1, bitsAllocated: 16, bitsStored: 12, signed: false, photometric: 'MONOCHROME2', planar: 0, frames: 1 };
    const source = synthNativeFile(dir, spec);
    const compressed = synthJpeg2000File(dir, source, spec, [], '1.2.840.10008.1.2.4.90', 'MONOCHROME2').path;
    engine = await startTestEngine();
    const outcomes = await engine.store.storeInstances([readFileSync(source), readFileSync(compressed)]);
    const [a, b] = outcomes.map((o) => {
      if (!o.ok) throw new Error(`not stored: ${o.message}`);
      return { study: o.studyInstanceUID, series: o.seriesInstanceUID, sop: o.sopInstanceUID };
    });
    [native, j2k] = [a!, b!];
  });
  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const png = async (path: string): Promise<Raw> => {
    const res = await fetch(path, { headers: { Accept: 'image/png' } });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status, body.toString('utf8').slice(0, 300)).toBe(200);
    return rawPixels(body);
  };
  const instance = (f: Stored, tail: string) => `${engine.dicomWebUrl}/studies/${f.study}/series/${f.series}/instances/${f.sop}${tail}`;
  const both = (tail: string) => Promise.all([png(instance(native, tail)), png(instance(j2k, tail))]);

  function meanDifference(a: Raw, b: Raw): number {
    expect([b.width, b.height, b.channels]).toEqual([a.width, a.height, a.channels]);
    let sum = 0;
    for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
    return sum / a.data.length;
  }

  // The full 12-bit range, linear: a lower resolution then shows what the whole frame scaled down shows.
  const window = 'window=2048,4096,linear';

  it('decodes the whole frame when it is shown at its own size or cropped: identical to the native instance', async () => {
    for (const tail of [`/rendered?${window}`, `/rendered?${window}&viewport=128,128,0,0,256,256`]) {
      const [a, b] = await both(tail);
      expect([a.width, a.height], tail).toEqual(tail.includes('viewport') ? [128, 128] : [512, 512]);
      expect(b.data.equals(a.data), tail).toBe(true);
    }
  });

  // How far a lower resolution may be from the native rendering, in grey levels on average: its
  // low-pass samples are shifted by up to half a pixel of that level (see decodeFrame.ts). Measured
  // 1.4-1.5 at one level down and 2.5 at two on this image of gradients, wrap-around edges and
  // noise (scaling the native rendering with another of sharp's kernels moves it by up to 1.1);
  // decoding garbage, or the wrong level, gives tens.
  it.each([
    { what: 'a thumbnail (128x128 by default): one level down', tail: `/thumbnail?${window}`, size: [128, 128], within: 2 },
    { what: 'a 100x100 viewport: one level down', tail: `/rendered?${window}&viewport=100,100`, size: [100, 100], within: 2 },
    { what: 'a 250x250 viewport: whole (one level down would be smaller than twice that)', tail: `/rendered?${window}&viewport=250,250`, size: [250, 250], within: 0 },
  ])('$what, the same size as the native rendering', async ({ tail, size, within }) => {
    const [a, b] = await both(tail);
    expect([b.width, b.height]).toEqual(size);
    const mean = meanDifference(a, b);
    if (within === 0) expect(mean).toBe(0);
    else {
      expect(mean, 'identical would mean the whole frame was decoded').toBeGreaterThan(0);
      expect(mean).toBeLessThan(within);
    }
  });

  it('WADO-URI rows/columns take the same path (64x64: two levels down)', async () => {
    const query = (f: Stored) =>
      `${engine.url}/wado?requestType=WADO&studyUID=${f.study}&seriesUID=${f.series}&objectUID=${f.sop}&contentType=image/png&rows=64&columns=64&windowCenter=2048&windowWidth=4096`;
    const [a, b] = await Promise.all([png(query(native)), png(query(j2k))]);
    expect([b.width, b.height]).toEqual([64, 64]);
    const mean = meanDifference(a, b);
    expect(mean).toBeGreaterThan(0);
    expect(mean).toBeLessThan(3.5);
  });
});

describe.skipIf(!havePydicomSamples)('real JPEG 2000 files shown smaller (pydicom samples)', () => {
  let engine: TestEngine;
  const stored: Record<string, Stored> = {};
  const files = {
    // 512x512 16-bit MONOCHROME2, irreversible (lossy) wavelet; 400x400 8-bit YBR_RCT colour; 256 wide, 1024 high, MONOCHROME2.
    lossy: '693_J2KI.dcm',
    colour: 'GDCMJ2K_TextGBR.dcm',
    large: 'JPEG2000.dcm',
  };

  beforeAll(async () => {
    engine = await startTestEngine();
    const names = Object.keys(files) as (keyof typeof files)[];
    const outcomes = await engine.store.storeInstances(names.map((n) => readFileSync(sample(files[n]))));
    outcomes.forEach((o, i) => {
      if (!o.ok) throw new Error(`${names[i]} not stored: ${o.message}`);
      stored[names[i]!] = { study: o.studyInstanceUID, series: o.seriesInstanceUID, sop: o.sopInstanceUID };
    });
  });
  afterAll(async () => {
    await engine?.close();
  });

  const fetchPng = async (f: Stored, tail: string): Promise<Buffer> => {
    const res = await fetch(`${engine.dicomWebUrl}/studies/${f.study}/series/${f.series}/instances/${f.sop}${tail}`, { headers: { Accept: 'image/png' } });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status, body.toString('utf8').slice(0, 300)).toBe(200);
    return body;
  };

  // Against the whole frame rendered (the path rendered.test.ts checks against pydicom), scaled by sharp to the same size.
  it.each([
    { name: 'lossy' as const, viewport: '128,128', size: [128, 128] },
    { name: 'colour' as const, viewport: '100,100', size: [100, 100] },
    { name: 'large' as const, viewport: '64,256', size: [64, 256] },
  ])('$name at $viewport: the size of the whole frame shown there, close to it', async ({ name, viewport, size }) => {
    const [width, height] = size as [number, number];
    const reduced = await rawPixels(await fetchPng(stored[name]!, `/rendered?viewport=${viewport}`));
    const full = await rawPixels(await fetchPng(stored[name]!, '/rendered'));
    const raw = { width: full.width, height: full.height, channels: full.channels as 1 | 3 };
    const whole = { data: await sharp(full.data, { raw }).resize({ width, height, fit: 'inside' }).toColourspace(raw.channels === 1 ? 'b-w' : 'srgb').raw().toBuffer() };
    expect([reduced.width, reduced.height, reduced.channels]).toEqual([width, height, full.channels]);
    expect(whole.data.length).toBe(reduced.data.length);
    let sum = 0;
    for (let i = 0; i < reduced.data.length; i++) sum += Math.abs(reduced.data[i]! - whole.data[i]!);
    // Measured: 2.5 grey levels on average (lossy, windowed CT), 1.3 (colour), 0.8 (large). Deterministic.
    expect(sum / reduced.data.length).toBeLessThan(3);
  });
});
