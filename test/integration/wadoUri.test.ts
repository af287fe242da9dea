/**
 * WADO-URI (PS3.18 chapter 9) at DicomWeb.WadoRoot over real HTTP: the stored
 * file for contentType=application/dicom, rendered images for image/jpeg (the
 * default) and image/png with rows/columns/windowCenter/windowWidth/frameNumber
 * (pixels compared with test/support/renderOracle.py, from pydicom), 406 for
 * other types, 400/404 for bad or unknown UIDs.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { maxDifference, rawPixels, referenceRendering } from '../support/renderOracle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { synthStudy, synthUid } from '../support/synth.js';
import { peerAvailable, skipNote } from '../support/peers.js';

const ready = peerAvailable('python3-pydicom', havePydicomSamples);

describe.skipIf(!ready)(`WADO-URI${skipNote('python3-pydicom', havePydicomSamples)}`, () => {
  let engine: TestEngine;
  const synth = synthStudy({ key: 'wado-uri', patientID: 'WADO1', patientName: 'WADO^ONE', series: 2, instancesPerSeries: 1 });
  const study = synthUid('wado-uri', 1);
  const series1 = synthUid('wado-uri', 2, 1);
  const series2 = synthUid('wado-uri', 2, 2);
  const sop1 = synthUid('wado-uri', 3, 1, 1);
  const ctFile = readFileSync(sample('CT_small.dcm'));
  let ct: { study: string; series: string; sop: string; ts: string };

  const wado = (query: string, root = '/wado') => fetch(`${engine.url}${root}?${query}`);
  const stillServing = async () => expect((await fetch(`${engine.url}/system`)).status).toBe(200);

  beforeAll(async () => {
    engine = await startTestEngine();
    const outcomes = await engine.store.storeInstances([...synth, ctFile]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const o = outcomes[2];
    if (!o.ok) throw new Error('CT_small.dcm not stored');
    ct = { study: o.studyInstanceUID, series: o.seriesInstanceUID, sop: o.sopInstanceUID, ts: o.transferSyntaxUID };
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('answers the stored file, byte for byte, for contentType=application/dicom', async () => {
    const res = await wado(`requestType=WADO&studyUID=${study}&seriesUID=${series1}&objectUID=${sop1}&contentType=application/dicom`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dicom');
    expect(Buffer.from(await res.arrayBuffer()).equals(synth[0])).toBe(true);

    const res2 = await wado(`requestType=WADO&studyUID=${ct.study}&seriesUID=${ct.series}&objectUID=${ct.sop}&contentType=application%2Fdicom`);
    expect(Buffer.from(await res2.arrayBuffer()).equals(ctFile)).toBe(true);
  });

  it('finds the instance without seriesUID, and with a list of content types that includes application/dicom', async () => {
    const res = await wado(`requestType=WADO&studyUID=${study}&objectUID=${sop1}&contentType=video/mpeg,application/dicom;q=0.5`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(synth[0])).toBe(true);
  });

  it('accepts transferSyntax when it is the stored one, and answers 406 naming the stored one for another than 1.2.840.10008.1.2.1 (transcode.test.ts has that one)', async () => {
    const same = await wado(`requestType=WADO&studyUID=${ct.study}&objectUID=${ct.sop}&contentType=application/dicom&transferSyntax=${ct.ts}`);
    expect(same.status).toBe(200);
    const other = await wado(`requestType=WADO&studyUID=${ct.study}&objectUID=${ct.sop}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.4.50`);
    expect(other.status).toBe(406);
    expect(((await other.json()) as { Message: string }).Message).toContain(`stored as ${ct.ts}`);
  });

  it('answers 404 when the series or study given is not the instance’s', async () => {
    for (const q of [
      `studyUID=${study}&seriesUID=${series2}&objectUID=${sop1}`,
      `studyUID=${ct.study}&seriesUID=${series1}&objectUID=${sop1}`,
      `studyUID=${ct.study}&objectUID=${sop1}`,
      `studyUID=${study}&objectUID=1.2.3.4.5.6.7`,
    ]) {
      const res = await wado(`requestType=WADO&${q}&contentType=application/dicom`);
      expect(res.status, q).toBe(404);
      expect(((await res.json()) as { Message: string }).Message).toMatch(/^WADO-URI: no instance /);
    }
    await stillServing();
  });

  it('answers a JPEG of the image when contentType is absent (the default) or image/jpeg', async () => {
    const base = `requestType=WADO&studyUID=${ct.study}&seriesUID=${ct.series}&objectUID=${ct.sop}`;
    for (const query of [base, `${base}&contentType=image/jpeg`, `${base}&contentType=text/html,image/jpeg`]) {
      const res = await wado(query);
      expect(res.status, query).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      const body = Buffer.from(await res.arrayBuffer());
      expect([...body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      const meta = await sharp(body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 128, 128]);
    }
    const small = await wado(`${base}&rows=32&columns=64&imageQuality=50`);
    const meta = await sharp(Buffer.from(await small.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([32, 32]);
  });

  it('answers a PNG with windowCenter/windowWidth as pydicom computes it, rows/columns fitting it inside', async () => {
    const base = `requestType=WADO&studyUID=${ct.study}&objectUID=${ct.sop}&contentType=image/png`;
    const res = await wado(`${base}&windowCenter=40&windowWidth=400&frameNumber=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const ours = await rawPixels(Buffer.from(await res.arrayBuffer()));
    expect(maxDifference(ours, referenceRendering(sample('CT_small.dcm'), 1, [40, 400, 'linear']))).toBeLessThanOrEqual(1);
    const other = await rawPixels(Buffer.from(await (await wado(`${base}&windowCenter=400&windowWidth=100`)).arrayBuffer()));
    expect(maxDifference(other, referenceRendering(sample('CT_small.dcm'), 1, [400, 100, 'linear']))).toBeLessThanOrEqual(1);

    const sized = await wado(`${base}&rows=50`);
    const meta = await sharp(Buffer.from(await sized.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 50, 50]);
  });

  it('answers 400 for bad image parameters, 404 for a frame beyond the last, 406 for other content types', async () => {
    const base = `requestType=WADO&studyUID=${ct.study}&objectUID=${ct.sop}`;
    for (const [q, text] of [
      ['&windowCenter=40', /'windowCenter' and 'windowWidth' must be given together/],
      ['&windowCenter=40&windowWidth=abc', /'windowWidth' must be a decimal number/],
      ['&rows=0', /'rows' must be an integer from 1/],
      ['&imageQuality=0', /'imageQuality' must be an integer from 1 to 100/],
      ['&frameNumber=x', /'frameNumber' must be an integer/],
    ] as const) {
      const res = await wado(base + q);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { Message: string }).Message).toMatch(text);
    }
    const beyond = await wado(`${base}&frameNumber=2`);
    expect(beyond.status).toBe(404);
    expect(((await beyond.json()) as { Message: string }).Message).toContain('frame 2 does not exist');
    const html = await wado(`${base}&contentType=text/html`);
    expect(html.status).toBe(406);
    expect(((await html.json()) as { Message: string }).Message).toContain('contentType text/html is not available');
    await stillServing();
  });

  it('refuses anonymize=yes with 406 rather than answering identified data', async () => {
    const res = await wado(`requestType=WADO&studyUID=${study}&objectUID=${sop1}&contentType=application/dicom&anonymize=yes`);
    expect(res.status).toBe(406);
  });

  it('answers 400 for a missing or wrong requestType, missing UIDs, repeated or malformed parameters', async () => {
    const cases: Array<[string, RegExp]> = [
      [`studyUID=${study}&objectUID=${sop1}`, /'requestType' is required and must be 'WADO'/],
      [`requestType=WADO-RS&studyUID=${study}&objectUID=${sop1}`, /'requestType' must be 'WADO', got "WADO-RS"/],
      [`requestType=WADO&studyUID=${study}`, /'objectUID' is required/],
      [`requestType=WADO&objectUID=${sop1}`, /'studyUID' is required/],
      [`requestType=WADO&studyUID=${study}&objectUID=${sop1}&objectUID=${sop1}`, /'objectUID' must be given once/],
      [`requestType=WADO&studyUID=${study}&objectUID=../../etc/passwd`, /'objectUID' must be a DICOM UID/],
      [`requestType=WADO&studyUID=${study}&objectUID=%2e%2e%2f%2e%2e%2fetc%2fpasswd`, /'objectUID' must be a DICOM UID/],
      [`requestType=WADO&studyUID=${study}&seriesUID=1.2.x&objectUID=${sop1}`, /'seriesUID' must be a DICOM UID/],
      [`requestType=WADO&studyUID=${'1.'.repeat(40)}1&objectUID=${sop1}`, /'studyUID' must be a DICOM UID/],
    ];
    for (const [q, message] of cases) {
      const res = await wado(`${q}&contentType=application/dicom`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { Message: string }).Message).toMatch(message);
      await stillServing();
    }
  });
});

describe('WADO-URI configuration', () => {
  it('serves at the configured WadoRoot only', async () => {
    const engine = await startTestEngine({ DicomWeb: { WadoRoot: 'wado-uri/' } });
    try {
      const q = 'requestType=WADO&studyUID=1.2.3&objectUID=1.2.3.4&contentType=application/dicom';
      expect((await fetch(`${engine.url}/wado-uri?${q}`)).status).toBe(404);
      expect(((await (await fetch(`${engine.url}/wado-uri?${q}`)).json()) as { Message: string }).Message).toMatch(/^WADO-URI: no instance/);
      expect(((await (await fetch(`${engine.url}/wado?${q}`)).json()) as { Message: string }).Message).toMatch(/no route for GET \/wado/);
    } finally {
      await engine.close();
    }
  });

  it('has no WADO-URI when EnableWado is false, nor DICOMweb when Enable is false', async () => {
    const engine = await startTestEngine({ DicomWeb: { EnableWado: false } });
    try {
      expect((await fetch(`${engine.url}/wado?requestType=WADO`)).status).toBe(404);
      expect((await fetch(`${engine.url}/dicom-web/studies`)).status).toBe(200);
    } finally {
      await engine.close();
    }
    const off = await startTestEngine({ DicomWeb: { Enable: false } });
    try {
      expect((await fetch(`${off.url}/wado?requestType=WADO`)).status).toBe(404);
      expect((await fetch(`${off.url}/dicom-web/studies`)).status).toBe(404);
      expect((await fetch(`${off.url}/system`)).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
