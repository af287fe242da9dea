/**
 * The rendering pipeline's pure parts (main/pixels/render.ts,
 * renderingAttributes.ts, dicomweb/renderedQuery.ts, thumbnailCache.ts) on
 * frames built here with values worked out by hand from PS3.3 C.11 and
 * C.7.6.3.1; the pydicom comparisons over HTTP are in
 * test/integration/rendered.test.ts.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseRenderedQuery, parseViewport, parseWadoUriImageQuery, parseWindow } from '../../../main/dicomweb/renderedQuery.js';
import type { DicomJsonDataset } from '../../../main/dicom/types.js';
import { displayPixels, renderFrame, sampleValues, shownSize, sourceRegion, voiFunction, wholeFactorShrink, DEFAULT_RENDERING } from '../../../main/pixels/render.js';
import { renderingAttributesOf } from '../../../main/pixels/renderingAttributes.js';
import { looksComplete } from '../../../main/pixels/thumbnailCache.js';
import type { DecodedFrame } from '../../../main/pixels/types.js';

function frame(partial: Partial<DecodedFrame> & { bytes: Buffer; rows: number; columns: number }): DecodedFrame {
  return {
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    ...partial,
  };
}

function words(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v & 0xffff, i * 2));
  return b;
}

describe('stored values', () => {
  it('keeps Bits Stored below High Bit and sign-extends two’s complement (12 of 16 bits)', () => {
    const f = frame({ rows: 1, columns: 4, bitsStored: 12, highBit: 11, pixelRepresentation: 1, bytes: words([0xf800, 0x07ff, 0x0800, 0xffff]) });
    expect([...sampleValues(f)]).toEqual([-2048, 2047, -2048, -1]);
  });

  it('shifts values whose High Bit is not Bits Stored - 1', () => {
    const f = frame({ rows: 1, columns: 2, bitsStored: 12, highBit: 15, bytes: words([0xabc0, 0x0010]) });
    expect([...sampleValues(f)]).toEqual([0xabc, 1]);
  });

  it('reads 32-bit unsigned values beyond 2^31, and 1-bit data packed LSB first', () => {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(0xffffffff, 0);
    b.writeUInt32LE(7, 4);
    expect([...sampleValues(frame({ rows: 1, columns: 2, bitsAllocated: 32, bitsStored: 32, highBit: 31, bytes: b }))]).toEqual([4294967295, 7]);
    expect([...sampleValues(frame({ rows: 1, columns: 10, bitsAllocated: 1, bitsStored: 1, highBit: 0, bytes: Buffer.from([0b10000101, 0b10]) }))]).toEqual([
      1, 0, 1, 0, 0, 0, 0, 1, 0, 1,
    ]);
  });

  it('refuses a frame shorter than its size says', () => {
    expect(() => sampleValues(frame({ rows: 2, columns: 2, bytes: Buffer.alloc(6) }))).toThrow(/6 bytes, 8 needed/);
  });
});

describe('VOI LUT functions (PS3.3 C.11.2.1.2, C.11.2.1.3)', () => {
  it('LINEAR: a width of 1 is a threshold at center - 0.5; the ends of the window map to 0 and 255', () => {
    const threshold = voiFunction({ center: 100, width: 1, function: 'linear' });
    expect([threshold(99), threshold(99.5), threshold(100)]).toEqual([0, 0, 255]);
    const f = voiFunction({ center: 40, width: 400, function: 'linear' });
    expect(f(40 - 0.5 - 399 / 2)).toBe(0);
    expect(f(40 - 0.5 + 399 / 2)).toBeCloseTo(255, 10);
    expect(f(39.5)).toBeCloseTo(127.5, 10);
  });

  it('LINEAR_EXACT: center ± width/2 are the ends; SIGMOID: the center is half way', () => {
    const exact = voiFunction({ center: 100, width: 200, function: 'linear-exact' });
    expect([exact(0), exact(100), exact(200), exact(250)]).toEqual([0, 127.5, 255, 255]);
    const sigmoid = voiFunction({ center: 100, width: 50, function: 'sigmoid' });
    expect(sigmoid(100)).toBe(127.5);
    expect(sigmoid(150)).toBeCloseTo(255 / (1 + Math.exp(-4)), 10);
  });
});

describe('display pixels', () => {
  it('applies rescale then the window, and inverts MONOCHROME1', () => {
    // stored 0, 50, 100 → rescaled -100, 0, 100 → window 0/200 linear-exact → 0, 127.5 → 128, 255.
    const attrs = { rescaleSlope: 2, rescaleIntercept: -100 };
    const window = { center: 0, width: 200, function: 'linear-exact' as const };
    const mono2 = frame({ rows: 1, columns: 3, bytes: words([0, 50, 100]) });
    expect([...displayPixels(mono2, attrs, window).data]).toEqual([0, 128, 255]);
    const mono1 = { ...mono2, photometricInterpretation: 'MONOCHROME1' };
    expect([...displayPixels(mono1, attrs, window).data]).toEqual([255, 127, 0]);
  });

  it('maps every pixel of a 16-bit frame, four at a time and the rest one by one, as the VOI function gives it', () => {
    // 7x9 = 63 pixels: 15 groups of four and 3 left over; 12 bits stored with junk above them.
    const values = Array.from({ length: 63 }, (_, i) => (i * 71) % 4096);
    const f = frame({ rows: 7, columns: 9, bitsStored: 12, highBit: 11, bytes: words(values.map((v, i) => v | ((i % 3) << 13))) });
    const window = { center: 1000, width: 2000, function: 'linear' as const };
    const voi = voiFunction(window);
    const expected = values.map((v) => Math.min(255, Math.max(0, Math.round(voi(v - 1024)))));
    expect([...displayPixels(f, { rescaleSlope: 1, rescaleIntercept: -1024 }, window).data]).toEqual(expected);
  });

  it("uses the file's window when none is asked, else the min/max of the rescaled pixels", () => {
    const f = frame({ rows: 1, columns: 3, bytes: words([10, 20, 30]) });
    expect([...displayPixels(f, DEFAULT_RENDERING).data]).toEqual([0, 128, 255]);
    expect([...displayPixels(f, { ...DEFAULT_RENDERING, window: { center: 10, width: 1, function: 'linear' } }).data]).toEqual([255, 255, 255]);
  });

  it('converts YBR_FULL to RGB with the inverse of the PS3.3 C.7.6.3.1.2 equations', () => {
    // Pure red (255, 0, 0) is Y 76.245, Cb 84.972, Cr 255.5 → stored 76, 85, 255.
    const f = frame({ rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometricInterpretation: 'YBR_FULL', bytes: Buffer.from([128, 128, 128, 76, 85, 255]) });
    const [r0, g0, b0, r, g, b] = [...displayPixels(f, DEFAULT_RENDERING).data];
    expect([r0, g0, b0]).toEqual([128, 128, 128]);
    expect(r).toBeGreaterThanOrEqual(253);
    expect(g).toBeLessThanOrEqual(1);
    expect(b).toBeLessThanOrEqual(1);
  });

  it('maps PALETTE COLOR through 16-bit entries, values outside the table taking its first or last entry', () => {
    const lut = (values: number[]) => ({ entries: values.length, firstMapped: 10, bits: 16, data: words(values) });
    const attrs = { ...DEFAULT_RENDERING, palette: { red: lut([0x0000, 0x8000, 0xffff]), green: lut([0xff00, 0x0100, 0x0000]), blue: lut([0x1234, 0x5678, 0x9abc]) } };
    const f = frame({ rows: 1, columns: 4, photometricInterpretation: 'PALETTE COLOR', bytes: words([0, 10, 11, 500]) });
    expect([...displayPixels(f, attrs).data]).toEqual([0x00, 0xff, 0x12, 0x00, 0xff, 0x12, 0x80, 0x01, 0x56, 0xff, 0x00, 0x9a]);
  });

  it('scales 16-bit RGB to 8 bits, and refuses what it cannot show by name', () => {
    const f = frame({ rows: 1, columns: 1, samplesPerPixel: 3, photometricInterpretation: 'RGB', bytes: words([0, 0xffff, 0x8000]) });
    expect([...displayPixels(f, DEFAULT_RENDERING).data]).toEqual([0, 255, 128]);
    const cmyk = frame({ rows: 1, columns: 1, samplesPerPixel: 4, photometricInterpretation: 'CMYK', bytes: words([0, 0, 0, 0]) });
    expect(() => displayPixels(cmyk, DEFAULT_RENDERING)).toThrow(/Photometric Interpretation CMYK/);
  });
});

describe('encoding', () => {
  const gradient = frame({ rows: 64, columns: 128, bitsAllocated: 8, bitsStored: 8, highBit: 7, bytes: Buffer.from(Array.from({ length: 64 * 128 }, (_, i) => i % 128)) });

  it('writes a grey PNG whose pixels are the display values, and a JPEG that fits the viewport', async () => {
    const png = await renderFrame(gradient, DEFAULT_RENDERING, { mediaType: 'image/png', window: { center: 63.5, width: 128, function: 'linear-exact' } });
    const { data, info } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([128, 64, 1]);
    const exact = (x: number) => Math.round(((x - 63.5) / 128 + 0.5) * 255);
    expect([data[0], data[64], data[127]]).toEqual([exact(0), exact(64), exact(127)]);

    const jpeg = await renderFrame(gradient, DEFAULT_RENDERING, { mediaType: 'image/jpeg', viewport: { width: 64, height: 64 } });
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const meta = await sharp(jpeg).metadata();
    expect([meta.width, meta.height]).toEqual([64, 32]);
  });

  it('shownSize is the size sharp fits an image inside a viewport to, for odd sizes and one-sided viewports', async () => {
    const images = [[512, 512], [513, 511], [301, 97], [1000, 3], [37, 1999]] as const;
    const viewports = [{ width: 128, height: 128 }, { width: 100, height: 50 }, { width: 64 }, { height: 64 }, { width: 333, height: 222 }, { width: 1, height: 1 }, { width: 7, height: 1000 }];
    for (const [width, height] of images) {
      for (const viewport of viewports) {
        const { info } = await sharp(Buffer.alloc(width * height), { raw: { width, height, channels: 1 } }).resize({ ...viewport, fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
        expect(shownSize({ width, height }, viewport), `${width}x${height} in ${JSON.stringify(viewport)}`).toEqual({ width: info.width, height: info.height });
      }
    }
    expect(shownSize({ width: 10, height: 10 }, undefined)).toBeUndefined();
  });

  it('shrinks by a whole factor as the mean of each block (rounded half up), grey and RGB; other sizes are left to sharp', () => {
    const grey = { data: Buffer.from([0, 2, 10, 20, 4, 6, 30, 41, 1, 1, 1, 1, 1, 1, 1, 2]), width: 4, height: 4, channels: 1 as const };
    expect(wholeFactorShrink(grey, { width: 2, height: 2 })).toEqual({ data: Buffer.from([3, 25, 1, 1]), width: 2, height: 2, channels: 1 });
    expect([...wholeFactorShrink(grey, { width: 1, height: 1 })!.data]).toEqual([8]); // 121 / 16 = 7.56
    const rgb = { data: Buffer.from([10, 0, 255, 20, 0, 255, 30, 100, 0, 40, 101, 0]), width: 2, height: 2, channels: 3 as const };
    expect([...wholeFactorShrink(rgb, { width: 1, height: 1 })!.data]).toEqual([25, 50, 128]); // 201 / 4 = 50.25, 510 / 4 = 127.5
    expect(wholeFactorShrink(grey, { width: 3, height: 3 })).toBeUndefined();
    expect(wholeFactorShrink(grey, { width: 2, height: 1 })).toBeUndefined(); // not the same factor both ways
    expect(wholeFactorShrink(grey, { width: 4, height: 4 })).toBeUndefined();
  });

  it('a viewport that is a whole fraction of the image is shown box-averaged; others fitted by sharp to the same size', async () => {
    const png = await renderFrame(gradient, DEFAULT_RENDERING, { mediaType: 'image/png', window: { center: 127.5, width: 256, function: 'linear-exact' }, viewport: { width: 32 } });
    const { data, info } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([32, 16]);
    // Columns 0-3 of the gradient hold 0..3 (display 0..3 with this window): their mean 1.5 rounds to 2.
    expect([data[0], data[1], data[31]]).toEqual([2, 6, 126]);
    const odd = await renderFrame(gradient, DEFAULT_RENDERING, { mediaType: 'image/png', viewport: { width: 30 } });
    const meta = await sharp(odd).metadata();
    expect([meta.width, meta.height]).toEqual([30, 15]);
  });

  it('a frame decoded at a lower resolution is scaled to the size the whole frame would be shown at', async () => {
    // The gradient's 128x64 frame as a 32x16 lower resolution, shown in 100x100: the whole frame would give 100x50.
    const quarter = frame({ rows: 16, columns: 32, bitsAllocated: 8, bitsStored: 8, highBit: 7, bytes: Buffer.alloc(32 * 16, 90) });
    const png = await renderFrame(quarter, DEFAULT_RENDERING, { mediaType: 'image/png', viewport: { width: 100, height: 100 } }, undefined, { width: 128, height: 64 });
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([100, 50]);
  });

  it('crops a source region, a negative width taking the columns left of sx, mirrored', () => {
    const row = { data: Buffer.from(Array.from({ length: 16 }, (_, i) => i)), width: 16, height: 1, channels: 1 as const };
    expect([...sourceRegion(row, { x: 10, y: 0, width: -4, height: 1 }).data]).toEqual([9, 8, 7, 6]);
    expect([...sourceRegion(row, { x: 14, y: 0, width: 5, height: 3 }).data]).toEqual([14, 15]);
    expect(() => sourceRegion(row, { x: 16, y: 0, width: 2, height: 1 })).toThrow(/lies outside the 16x1 image/);
  });

  it('flips a negative source region', async () => {
    const png = await renderFrame(gradient, DEFAULT_RENDERING, {
      mediaType: 'image/png',
      window: { center: 63.5, width: 128, function: 'linear-exact' },
      viewport: { width: 128, height: 64, region: { x: 128, y: 0, width: -128, height: 64 } },
    });
    const { data, info } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([128, 64]);
    expect([data[0], data[127], data[128]]).toEqual([254, 1, 254]);
  });
});

describe('rendering attributes from DICOM JSON', () => {
  const ds = (elements: Record<string, unknown>) => elements as DicomJsonDataset;

  it('reads rescale, the first window and the VOI LUT Function at top level', () => {
    const attrs = renderingAttributesOf(
      ds({ '00281052': { vr: 'DS', Value: [-1024] }, '00281053': { vr: 'DS', Value: [1] }, '00281050': { vr: 'DS', Value: [40, 400] }, '00281051': { vr: 'DS', Value: [400, 2000] }, '00281056': { vr: 'CS', Value: ['SIGMOID'] } }),
    );
    expect(attrs).toEqual({ rescaleSlope: 1, rescaleIntercept: -1024, window: { center: 40, width: 400, function: 'sigmoid' } });
    // A width LINEAR cannot take is left out (min/max is used instead).
    expect(renderingAttributesOf(ds({ '00281050': { vr: 'DS', Value: [40] }, '00281051': { vr: 'DS', Value: [0] } })).window).toBeUndefined();
  });

  it('prefers the per-frame functional group, then the shared one (enhanced multi-frame)', () => {
    const group = (c: number, slope: number) => ({
      '00289132': { vr: 'SQ', Value: [{ '00281050': { vr: 'DS', Value: [c] }, '00281051': { vr: 'DS', Value: [100] } }] },
      '00289145': { vr: 'SQ', Value: [{ '00281053': { vr: 'DS', Value: [slope] }, '00281052': { vr: 'DS', Value: [0] } }] },
    });
    const dataset = ds({ '52009229': { vr: 'SQ', Value: [group(1, 1)] }, '52009230': { vr: 'SQ', Value: [{}, group(2, 3)] } });
    expect(renderingAttributesOf(dataset, 1)).toMatchObject({ rescaleSlope: 1, window: { center: 1 } });
    expect(renderingAttributesOf(dataset, 2)).toMatchObject({ rescaleSlope: 3, window: { center: 2 } });
  });
});

describe('query parameters', () => {
  it('parses window, viewport and quality (PS3.18 8.3.5.1)', () => {
    expect(parseWindow('40,400')).toEqual({ center: 40, width: 400, function: 'linear' });
    expect(parseWindow('-600.5,1500,LINEAR_EXACT')).toEqual({ center: -600.5, width: 1500, function: 'linear-exact' });
    expect(parseViewport(',256')).toEqual({ width: undefined, height: 256 });
    expect(parseViewport('64,64,10,20,-30,40')).toEqual({ width: 64, height: 64, region: { x: 10, y: 20, width: -30, height: 40 } });
    expect(parseRenderedQuery({ quality: '75' }, 'image/jpeg', { viewport: { width: 128, height: 128 } })).toEqual({ mediaType: 'image/jpeg', quality: 75, viewport: { width: 128, height: 128 } });
  });

  it('refuses bad values with a message naming the parameter', () => {
    expect(() => parseWindow('40')).toThrow(/'window'.*center,width/);
    expect(() => parseWindow('40,0.5')).toThrow(/width 0.5 is not allowed for linear/);
    expect(() => parseWindow('40,0,sigmoid')).toThrow(/width 0 is not allowed for sigmoid/);
    expect(() => parseViewport('10')).toThrow(/vw,vh/);
    expect(() => parseViewport('99999,10')).toThrow(/vw must be an integer from 1 to 8192/);
    expect(() => parseRenderedQuery({ quality: ['1', '2'] }, 'image/png')).toThrow(/'quality' must be given once/);
  });

  it('parses the WADO-URI image parameters (PS3.18 9.1.2.1)', () => {
    expect(parseWadoUriImageQuery({ rows: '100', windowCenter: '40', windowWidth: '400', frameNumber: '3', imageQuality: '60' }, 'image/jpeg')).toEqual({
      frame: 3,
      params: { mediaType: 'image/jpeg', viewport: { height: 100, width: undefined }, window: { center: 40, width: 400, function: 'linear' }, quality: 60 },
    });
    expect(() => parseWadoUriImageQuery({ windowWidth: '400' }, 'image/png')).toThrow(/given together/);
    expect(() => parseWadoUriImageQuery({ region: '0,0,1,1' }, 'image/png')).toThrow(/'region' is not supported/);
  });
});

describe('thumbnail cache files', () => {
  it('takes only whole JPEG and PNG files', async () => {
    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
    expect(looksComplete(jpeg, 'image/jpeg')).toBe(true);
    expect(looksComplete(png, 'image/png')).toBe(true);
    expect(looksComplete(jpeg.subarray(0, jpeg.length - 1), 'image/jpeg')).toBe(false);
    expect(looksComplete(png.subarray(0, png.length - 4), 'image/png')).toBe(false);
    expect(looksComplete(png, 'image/jpeg')).toBe(false);
    expect(looksComplete(Buffer.alloc(0), 'image/png')).toBe(false);
  });
});
