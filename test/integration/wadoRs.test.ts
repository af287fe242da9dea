/**
 * WADO-RS Retrieve Study/Series/Instance, Metadata and Bulkdata (PS3.18
 * 10.4) over real HTTP against a real engine: bytes identical to the files
 * stored, Accept negotiation (406), unknown and malformed UIDs, BulkDataURIs
 * that work and give pydicom's value bytes.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';
import { synthStudy, synthUid } from '../support/synth.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { getMultipart, pydicomUids, pydicomValue, stow } from './dicomwebHttp.js';

let engine: TestEngine;
const files = synthStudy({ key: 'wado-rs', patientID: 'P-WADO', patientName: 'Wado^Rs', series: 2, instancesPerSeries: 4 });
const STUDY = synthUid('wado-rs', 1);
const SERIES1 = synthUid('wado-rs', 2, 1);
const SERIES2 = synthUid('wado-rs', 2, 2);
const INSTANCE = synthUid('wado-rs', 3, 2, 3);
const JPEG_FILE = sample('SC_rgb_jpeg_dcmtk.dcm'); // stored as JPEG baseline
const CT_FILE = sample('CT_small.dcm');
let base: string;

beforeAll(async () => {
  engine = await startTestEngine();
  base = engine.dicomWebUrl;
  const answer = await stow(base, [...files, readFileSync(JPEG_FILE), readFileSync(CT_FILE)]);
  expect(answer.status).toBe(200);
});
afterAll(async () => {
  await engine?.close();
});

describe('WADO-RS retrieve study, series, instance', () => {
  it('returns every instance of a study as multipart/related application/dicom, bytes identical to the files sent', async () => {
    const answer = await getMultipart(`${base}/studies/${STUDY}`);
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/dicom');
    expect(answer.parts).toHaveLength(8);
    answer.parts.forEach((part, i) => {
      expect(part.headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
      expect(part.body.equals(files[i]!), `instance ${i}`).toBe(true);
    });
  });

  it('returns a series and a single instance', async () => {
    const series = await getMultipart(`${base}/studies/${STUDY}/series/${SERIES2}`);
    expect(series.parts.map((p) => p.body)).toEqual(files.slice(4));
    const one = await getMultipart(`${base}/studies/${STUDY}/series/${SERIES2}/instances/${INSTANCE}`);
    expect(one.parts).toHaveLength(1);
    expect(one.parts[0]!.body.equals(files[6]!)).toBe(true);
    expect(one.parts[0]!.headers['content-location']).toBe(`${base}/studies/${STUDY}/series/${SERIES2}/instances/${INSTANCE}`);
  });

  it('gives the stored bytes for */*, multipart/related without type, transfer-syntax=* and the stored syntax', async () => {
    const url = `${base}/studies/${STUDY}/series/${SERIES1}`;
    for (const accept of [
      '*/*',
      'multipart/related',
      'multipart/related; type=application/dicom; transfer-syntax=*',
      'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
      'text/html;q=0.9, multipart/related; type="application/dicom"',
    ]) {
      const answer = await getMultipart(url, accept);
      expect(answer.status, accept).toBe(200);
      expect(answer.parts.map((p) => p.body), accept).toEqual(files.slice(0, 4));
    }
  });

  it('answers a bare application/dicom request for one instance with the file itself', async () => {
    const response = await fetch(`${base}/studies/${STUDY}/series/${SERIES2}/instances/${INSTANCE}`, { headers: { Accept: 'application/dicom' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
    expect(Buffer.from(await response.arrayBuffer()).equals(files[6]!)).toBe(true);
  });

  it('answers 406 naming the stored syntax when a transfer syntax it cannot produce is asked (transcode.test.ts has 1.2.840.10008.1.2.1)', async () => {
    const jpeg = pydicomUids([JPEG_FILE])[JPEG_FILE]!;
    const url = `${base}/studies/${jpeg.studyInstanceUID}/series/${jpeg.seriesInstanceUID}/instances/${jpeg.sopInstanceUID}`;
    const response = await fetch(url, { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.80' } });
    expect(response.status).toBe(406);
    const body = (await response.json()) as { Message: string };
    expect(body.Message).toContain('transfer-syntax=1.2.840.10008.1.2.4.80');
    expect(body.Message).toContain('1.2.840.10008.1.2.4.50');
    // The stored syntax itself is fine.
    const ok = await getMultipart(url, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50');
    expect(ok.parts[0]!.headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50');
    expect(ok.parts[0]!.body.equals(readFileSync(JPEG_FILE))).toBe(true);
    expect((await fetch(url, { headers: { Accept: 'image/png' } })).status).toBe(406);
  });

  it('answers 404 naming the UID for unknown studies, series and instances', async () => {
    for (const [path, uid] of [
      [`studies/1.2.3.999`, '1.2.3.999'],
      [`studies/${STUDY}/series/1.2.3.998`, '1.2.3.998'],
      [`studies/${STUDY}/series/${SERIES1}/instances/1.2.3.997`, '1.2.3.997'],
      [`studies/1.2.3.996/metadata`, '1.2.3.996'],
      [`studies/${STUDY}/series/${SERIES1}/instances/1.2.3.995/frames/1`, '1.2.3.995'],
    ] as const) {
      const response = await fetch(`${base}/${path}`);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { Message: string }).Message, path).toContain(uid);
    }
  });

  it('answers 400 for UIDs that are not UIDs, path traversal included', async () => {
    for (const path of [
      'studies/..%2F..%2Fetc%2Fpasswd',
      'studies/1.2.3%2F..%2F..',
      `studies/${STUDY}/series/1.2.x/metadata`,
      `studies/${'1.'.repeat(40)}1`,
      `studies/${STUDY}/series/${SERIES1}/instances/%00/frames/1`,
      `studies/${STUDY}/series/${SERIES1}/instances/1.2.3/bulk/..%2F..%2Fx`,
    ]) {
      const response = await fetch(`${base}/${path}`);
      expect([400, 404], path).toContain(response.status);
      if (response.status === 404) {
        // Only a route that does not exist may answer 404 (URL normalised away), never a file lookup.
        expect(((await response.json()) as { Message: string }).Message, path).toContain('no route');
      }
    }
    expect((await fetch(`${base}/studies/1.2.x`)).status).toBe(400);
  });
});

describe('WADO-RS metadata', () => {
  it('returns the study metadata as a DICOM JSON array, one dataset per instance', async () => {
    const response = await fetch(`${base}/studies/${STUDY}/metadata`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/dicom+json');
    const datasets = (await response.json()) as Array<Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>>;
    expect(datasets).toHaveLength(8);
    expect(datasets.map((d) => d['00080018']!.Value![0])).toEqual([1, 2].flatMap((s) => [1, 2, 3, 4].map((i) => synthUid('wado-rs', 3, s, i))));
    expect(datasets[0]!['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Wado^Rs' }] });
  });

  it('has BulkDataURIs that are absolute and answer the value bytes pydicom reads', async () => {
    const ct = pydicomUids([CT_FILE])[CT_FILE]!;
    const instanceUrl = `${base}/studies/${ct.studyInstanceUID}/series/${ct.seriesInstanceUID}/instances/${ct.sopInstanceUID}`;
    const response = await fetch(`${instanceUrl}/metadata`, { headers: { Accept: 'application/json' } });
    expect(response.status).toBe(200);
    const [dataset] = (await response.json()) as Array<Record<string, { BulkDataURI?: string }>>;
    const pixelUri = dataset!['7FE00010']!.BulkDataURI!;
    expect(pixelUri).toBe(`${instanceUrl}/bulk/7FE00010`);
    const bulk = await getMultipart(pixelUri);
    expect(bulk.status).toBe(200);
    expect(bulk.type).toBe('application/octet-stream');
    expect(bulk.parts[0]!.body.toString('hex')).toBe(pydicomValue(CT_FILE, '7FE00010'));
    const plain = await fetch(pixelUri, { headers: { Accept: 'application/octet-stream' } });
    expect(plain.headers.get('content-type')).toContain('application/octet-stream');
    expect(Buffer.from(await plain.arrayBuffer()).toString('hex')).toBe(pydicomValue(CT_FILE, '7FE00010'));
    // Every BulkDataURI works.
    for (const element of Object.values(dataset!)) {
      if (element.BulkDataURI) expect((await fetch(element.BulkDataURI)).status, element.BulkDataURI).toBe(200);
    }
    expect((await fetch(`${instanceUrl}/bulk/00100010`)).status).toBe(404);
    expect((await fetch(`${instanceUrl}/bulk/not-a-tag`)).status).toBe(400);
  });

  it('builds BulkDataURIs from the Host header as sent, escaped for JSON, "$" sequences kept as they are', async () => {
    const host = `we"ird\\host$&$1$$:${new URL(base).port}`;
    const path = `${new URL(base).pathname}/studies/${STUDY}/series/${SERIES1}/metadata`;
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(base, { path, headers: { host, accept: 'application/dicom+json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      req.on('error', reject);
      req.end();
    });
    const datasets = JSON.parse(text) as Array<Record<string, { BulkDataURI?: string }>>;
    expect(datasets).toHaveLength(4);
    datasets.forEach((dataset, i) => {
      expect(dataset['7FE00010']!.BulkDataURI).toBe(
        `http://${host}${new URL(base).pathname}/studies/${STUDY}/series/${SERIES1}/instances/${synthUid('wado-rs', 3, 1, i + 1)}/bulk/7FE00010`,
      );
    });
  });

  it('returns XML metadata as multipart/related application/dicom+xml, one part per instance', async () => {
    const answer = await getMultipart(`${base}/studies/${STUDY}/series/${SERIES1}/metadata`, 'multipart/related; type="application/dicom+xml"');
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/dicom+xml');
    expect(answer.parts).toHaveLength(4);
    answer.parts.forEach((part, i) => {
      const xml = part.body.toString('utf8');
      expect(xml).toContain('<NativeDicomModel');
      expect(xml).toContain(synthUid('wado-rs', 3, 1, i + 1));
      expect(xml).toContain(`${base}/studies/${STUDY}/series/${SERIES1}/instances/${synthUid('wado-rs', 3, 1, i + 1)}/bulk/7FE00010`);
    });
  });

  it('answers 406 for a metadata media type it cannot produce', async () => {
    const response = await fetch(`${base}/studies/${STUDY}/metadata`, { headers: { Accept: 'text/html' } });
    expect(response.status).toBe(406);
    expect(((await response.json()) as { Message: string }).Message).toContain('application/dicom+json');
  });

  it('takes the accept query parameter over the Accept header (PS3.18 8.3.3.1)', async () => {
    const response = await fetch(`${base}/studies/${STUDY}/series/${SERIES1}/metadata?accept=${encodeURIComponent('multipart/related; type="application/dicom+xml"')}`, {
      headers: { Accept: 'application/dicom+json' },
    });
    expect(response.headers.get('content-type')).toContain('application/dicom+xml');
  });
});
