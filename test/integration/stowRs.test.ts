/**
 * STOW-RS (PS3.18 10.5) over real HTTP against a real engine (temp store,
 * port 0): pydicom samples and synthetic series stored and read back byte for
 * byte, failures reported per instance, broken and mistyped requests.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pydicomSampleFiles, sample } from '../support/samples.js';
import { synthInstance, synthStudy, synthUid } from '../support/synth.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { getMultipart, multipartBody, pydicomUids, slowPost, stow, type StowAnswer } from './dicomwebHttp.js';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine?.close();
});

type Item = Record<string, { vr: string; Value?: unknown[] }>;
const seq = (answer: StowAnswer, tag: string): Item[] => (answer.json?.[tag]?.Value ?? []) as Item[];
const referenced = (a: StowAnswer) => seq(a, '00081199'); // ReferencedSOPSequence
const failedSeq = (a: StowAnswer) => seq(a, '00081198'); // FailedSOPSequence
const str = (item: Item, tag: string) => item[tag]?.Value?.[0] as string | number | undefined;

describe('STOW-RS', () => {
  it('stores a synthetic series, answers 200 with RetrieveURLs, and the instances come back byte for byte', async () => {
    const files = synthStudy({ key: 'stow-series', patientID: 'P-STOW', patientName: 'Stow^Series', series: 2, instancesPerSeries: 5 });
    const studyUID = synthUid('stow-series', 1);
    const answer = await stow(engine.dicomWebUrl, files);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/dicom+json');
    expect(answer.json!['00081190']).toEqual({ vr: 'UR', Value: [`${engine.dicomWebUrl}/studies/${studyUID}`] });
    expect(answer.json!['00081198']).toBeUndefined();
    const items = referenced(answer);
    expect(items).toHaveLength(10);
    for (const [i, item] of items.entries()) {
      const s = Math.floor(i / 5) + 1;
      const n = (i % 5) + 1;
      expect(str(item, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(str(item, '00081155')).toBe(synthUid('stow-series', 3, s, n));
      const url = str(item, '00081190') as string;
      expect(url).toBe(`${engine.dicomWebUrl}/studies/${studyUID}/series/${synthUid('stow-series', 2, s)}/instances/${synthUid('stow-series', 3, s, n)}`);
      const back = await getMultipart(url);
      expect(back.status).toBe(200);
      expect(back.parts).toHaveLength(1);
      expect(back.parts[0]!.body.equals(files[i]!)).toBe(true);
    }
  });

  it('stores a request spanning several store batches (150 instances, garbage and a repeat among them), each answered once, in order', async () => {
    const files = synthStudy({ key: 'stow-batches', patientID: 'P-BATCHES', patientName: 'Many^Batches', series: 3, instancesPerSeries: 50, rows: 16, columns: 16 });
    const parts: Buffer[] = [];
    files.forEach((f, i) => {
      parts.push(f);
      if (i === 30 || i === 100) parts.push(Buffer.from(`garbage part after instance ${i}`));
      if (i === 70) parts.push(files[3]!); // sent again, in a later batch than its first copy
    });
    const answer = await stow(engine.dicomWebUrl, parts);
    expect(answer.status).toBe(202);
    expect(failedSeq(answer)).toHaveLength(2);
    const uids = referenced(answer).map((item) => str(item, '00081155'));
    const expected = files.map((_, i) => synthUid('stow-batches', 3, Math.floor(i / 50) + 1, (i % 50) + 1));
    expect(uids).toEqual([...expected.slice(0, 71), expected[3], ...expected.slice(71)]);
    const study = await fetch(`${engine.dicomWebUrl}/studies/${synthUid('stow-batches', 1)}/instances`, { headers: { Accept: 'application/dicom+json' } });
    expect(((await study.json()) as unknown[]).length).toBe(150);
  });

  it('stores every pydicom sample that has a File Meta header and the four UIDs, and fails the others one by one', async () => {
    const paths = pydicomSampleFiles();
    const uids = pydicomUids(paths);
    const answer = await stow(engine.dicomWebUrl, paths.map((p) => readFileSync(p)));
    const storedUids = new Set(referenced(answer).map((i) => str(i, '00081155')));
    const failed = failedSeq(answer);
    expect(referenced(answer).length + failed.length).toBe(paths.length);
    expect([200, 202]).toContain(answer.status);
    for (const path of paths) {
      const u = uids[path];
      const complete = u && u.transferSyntaxUID && u.sopClassUID && u.sopInstanceUID && u.studyInstanceUID && u.seriesInstanceUID;
      if (complete) expect(storedUids.has(u.sopInstanceUID!), `${path} should be stored`).toBe(true);
    }
    for (const item of failed) expect([0xc000, 0xa900]).toContain(str(item, '00081197'));
    // Each stored sample can be retrieved (samples sharing a SOP Instance UID come back as the first one stored).
    const ct = uids[sample('CT_small.dcm')]!;
    const back = await getMultipart(`${engine.dicomWebUrl}/studies/${ct.studyInstanceUID}/series/${ct.seriesInstanceUID}/instances/${ct.sopInstanceUID}`);
    expect(back.parts[0]!.body.equals(readFileSync(sample('CT_small.dcm')))).toBe(true);
  });

  it('answers 202 for good and garbage parts mixed, listing each garbage part as failed and keeping the good ones', async () => {
    const good = synthStudy({ key: 'stow-mixed', patientID: 'P-MIX', patientName: 'Mixed^Parts', series: 1, instancesPerSeries: 3 });
    const answer = await stow(engine.dicomWebUrl, [
      good[0]!,
      Buffer.from('this is not DICOM at all'),
      good[1]!,
      { body: Buffer.from('{"not":"dicom"}'), contentType: 'application/json' },
      { body: good[2]!, contentType: null }, // no part Content-Type: taken as application/dicom
    ]);
    expect(answer.status).toBe(202);
    expect(referenced(answer).map((i) => str(i, '00081155'))).toEqual([1, 2, 3].map((n) => synthUid('stow-mixed', 3, 1, n)));
    const failed = failedSeq(answer);
    expect(failed).toHaveLength(2);
    for (const item of failed) expect(str(item, '00081197')).toBe(0xc000);
    const series = await getMultipart(`${engine.dicomWebUrl}/studies/${synthUid('stow-mixed', 1)}/series/${synthUid('stow-mixed', 2, 1)}`);
    expect(series.parts.map((p) => p.body)).toEqual(good);
  });

  it('refuses instances of another study than the one in the URL (409 when none fits, 202 when some do)', async () => {
    const other = synthStudy({ key: 'stow-other-study', patientID: 'P-O', patientName: 'Other^Study', series: 1, instancesPerSeries: 2 });
    const target = synthStudy({ key: 'stow-target-study', patientID: 'P-T', patientName: 'Target^Study', series: 1, instancesPerSeries: 1 });
    const targetUID = synthUid('stow-target-study', 1);

    const none = await stow(engine.dicomWebUrl, other, { study: targetUID });
    expect(none.status).toBe(409);
    expect(referenced(none)).toEqual([]);
    expect(failedSeq(none).map((i) => [str(i, '00081155'), str(i, '00081197')])).toEqual([
      [synthUid('stow-other-study', 3, 1, 1), 0xc409],
      [synthUid('stow-other-study', 3, 1, 2), 0xc409],
    ]);
    const found = await fetch(`${engine.dicomWebUrl}/studies/${synthUid('stow-other-study', 1)}/metadata`);
    expect(found.status).toBe(404);

    const some = await stow(engine.dicomWebUrl, [other[0]!, target[0]!], { study: targetUID });
    expect(some.status).toBe(202);
    expect(some.json!['00081190']).toEqual({ vr: 'UR', Value: [`${engine.dicomWebUrl}/studies/${targetUID}`] });
    expect(referenced(some).map((i) => str(i, '00081155'))).toEqual([synthUid('stow-target-study', 3, 1, 1)]);
  });

  it('lists instances stored before as stored when they are sent again (200)', async () => {
    const files = synthStudy({ key: 'stow-again', patientID: 'P-A', patientName: 'Again^Sent', series: 1, instancesPerSeries: 2 });
    expect((await stow(engine.dicomWebUrl, files)).status).toBe(200);
    const again = await stow(engine.dicomWebUrl, files);
    expect(again.status).toBe(200);
    expect(referenced(again).map((i) => str(i, '00081155'))).toEqual([1, 2].map((n) => synthUid('stow-again', 3, 1, n)));
  });

  it('takes quoted and unquoted type and boundary parameters', async () => {
    const variants = [
      'multipart/related; type="application/dicom"; boundary="quoted:boundary=1"',
      'multipart/related; type=application/dicom; boundary=bare_boundary_2',
      'Multipart/Related;boundary=nospace3;type="application/dicom"',
      'multipart/related; boundary=no-type-4',
    ];
    for (const [i, contentType] of variants.entries()) {
      const file = synthInstance({
        patientID: 'P-Q',
        patientName: 'Quoted^Params',
        studyInstanceUID: synthUid('stow-quoting', 1),
        seriesInstanceUID: synthUid('stow-quoting', 2),
        sopInstanceUID: synthUid('stow-quoting', 3, i),
      });
      const boundary = /boundary="?([^";]+)/.exec(contentType)![1]!;
      const answer = await stow(engine.dicomWebUrl, [], { contentType, body: multipartBody([file], boundary) });
      expect(answer.status, contentType).toBe(200);
      expect(referenced(answer).map((it) => str(it, '00081155'))).toEqual([synthUid('stow-quoting', 3, i)]);
    }
  });

  it('reads a body sent in small delayed chunks, boundaries falling across TCP packets', async () => {
    const files = synthStudy({ key: 'stow-slow', patientID: 'P-S', patientName: 'Slow^Writer', series: 1, instancesPerSeries: 3, rows: 16, columns: 16 });
    const boundary = 'slow-boundary-with-a-long-name-0123456789';
    const result = await slowPost(
      `${engine.dicomWebUrl}/studies`,
      `multipart/related; type="application/dicom"; boundary=${boundary}`,
      multipartBody(files, boundary),
      7, // smaller than the delimiter: every delimiter is split
      1,
    );
    expect(result.status).toBe(200);
    const json = JSON.parse(result.text) as Record<string, { Value: Item[] }>;
    expect(json['00081199']!.Value.map((i) => str(i, '00081155'))).toEqual([1, 2, 3].map((n) => synthUid('stow-slow', 3, 1, n)));
  });

  it('answers 400 for a truncated body, keeps and reports what was stored before the break, and keeps serving', async () => {
    const files = synthStudy({ key: 'stow-truncated', patientID: 'P-TR', patientName: 'Truncated^Body', series: 1, instancesPerSeries: 3 });
    const boundary = 'truncated-boundary';
    const whole = multipartBody(files, boundary);
    // Cut in the middle of the third part: no closing delimiter.
    const cut = whole.subarray(0, whole.length - Math.floor(files[2]!.length / 2));
    const answer = await stow(engine.dicomWebUrl, [], { boundary, body: cut });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('warning')).toContain('closing delimiter');
    expect(referenced(answer).map((i) => str(i, '00081155'))).toEqual([1, 2].map((n) => synthUid('stow-truncated', 3, 1, n)));
    const series = await getMultipart(`${engine.dicomWebUrl}/studies/${synthUid('stow-truncated', 1)}/series/${synthUid('stow-truncated', 2, 1)}`);
    expect(series.parts.map((p) => p.body)).toEqual(files.slice(0, 2));

    const noDelimiter = await stow(engine.dicomWebUrl, [], { boundary, body: Buffer.from('no multipart here') });
    expect(noDelimiter.status).toBe(400);
    expect(noDelimiter.headers.get('warning')).toContain('no delimiter');
    const empty = await stow(engine.dicomWebUrl, [], { boundary, body: Buffer.from(`--${boundary}--\r\n`) });
    expect(empty.status).toBe(400);
  });

  it('answers 400 for a body broken half-way (endless part headers) while the client is still sending, reporting what was stored, and ends the request cleanly', async () => {
    const own = await startTestEngine();
    const files = synthStudy({ key: 'stow-broken-headers', patientID: 'P-BH', patientName: 'Broken^Headers', series: 1, instancesPerSeries: 1 });
    const boundary = 'broken-headers-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
      files[0]!,
      Buffer.from(`\r\n--${boundary}\r\nX-Endless: `),
      Buffer.alloc(2 * 1024 * 1024, 'a'), // headers that never end, followed by more body
    ]);
    try {
      const answer = await stow(own.dicomWebUrl, [], { boundary, body });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('warning')).toContain('headers longer than');
      expect(referenced(answer).map((i) => str(i, '00081155'))).toEqual([synthUid('stow-broken-headers', 3, 1, 1)]);
      // The server goes on serving.
      expect((await fetch(`${own.dicomWebUrl}/studies/${synthUid('stow-broken-headers', 1)}/metadata`)).status).toBe(200);
    } finally {
      // The rest of the body was drained: no request is left half-read, so the server closes at once.
      const start = performance.now();
      await own.close();
      expect(performance.now() - start).toBeLessThan(5000);
    }
  });

  it('keeps the instances fully received when the client disconnects in the middle of an upload, and keeps serving', async () => {
    const files = synthStudy({ key: 'stow-disconnect', patientID: 'P-D', patientName: 'Dis^Connect', series: 1, instancesPerSeries: 3 });
    const boundary = 'disconnect-boundary';
    const whole = multipartBody(files, boundary);
    const cut = whole.length - Math.floor(files[2]!.length / 2);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${engine.dicomWebUrl}/studies`, {
        method: 'POST',
        headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'Transfer-Encoding': 'chunked' },
      });
      req.on('error', () => resolve());
      req.write(whole.subarray(0, cut), () => setTimeout(() => req.destroy(), 100));
    });
    const series = `${engine.dicomWebUrl}/studies/${synthUid('stow-disconnect', 1)}/series/${synthUid('stow-disconnect', 2, 1)}`;
    let answer = await getMultipart(series);
    for (let i = 0; i < 50 && answer.parts.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      answer = await getMultipart(series);
    }
    expect(answer.parts.map((p) => p.body)).toEqual(files.slice(0, 2));
  });

  it('answers 415 with a message for a body that is not multipart/related of application/dicom', async () => {
    const file = synthStudy({ key: 'stow-415', patientID: 'P-415', patientName: 'Wrong^Type', series: 1, instancesPerSeries: 1 })[0]!;
    const cases: Array<[string, string]> = [
      ['application/dicom', 'multipart/related'],
      ['multipart/form-data; boundary=x', 'multipart/related'],
      ['multipart/related; type="application/dicom+json"; boundary=x', 'metadata with bulk data'],
      ['multipart/related; type="application/dicom+xml"; boundary=x', 'not supported'],
      ['multipart/related; type="image/jpeg"; boundary=x', 'type="image/jpeg"'],
    ];
    for (const [contentType, words] of cases) {
      const response = await fetch(`${engine.dicomWebUrl}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body: file });
      expect(response.status, contentType).toBe(415);
      const body = (await response.json()) as { Message: string };
      expect(body.Message, contentType).toContain(words);
    }
    const none = await fetch(`${engine.dicomWebUrl}/studies`, { method: 'POST', body: file });
    expect(none.status).toBe(415);
  });

  it('answers in the Native DICOM Model (XML) when the client asks application/dicom+xml', async () => {
    const files = synthStudy({ key: 'stow-xml', patientID: 'P-X', patientName: 'Xml^Answer', series: 1, instancesPerSeries: 1 });
    const answer = await stow(engine.dicomWebUrl, [...files, Buffer.from('garbage')], { accept: 'application/dicom+xml' });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('content-type')).toContain('application/dicom+xml');
    expect(answer.text).toContain('<NativeDicomModel');
    expect(answer.text).toContain('tag="00081199"');
    expect(answer.text).toContain(synthUid('stow-xml', 3, 1, 1));
    expect(answer.text).toContain('tag="00081197"');
  });

  it('rejects a study UID in the URL that is not a UID (400)', async () => {
    const response = await fetch(`${engine.dicomWebUrl}/studies/1.2.abc`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x' },
      body: '--x--',
    });
    expect(response.status).toBe(400);
  });
});
