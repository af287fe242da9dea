/**
 * POST /instances with a ZIP archive body, as Orthanc accepts it: one answer
 * object per DICOM entry (Orthanc's fields and statuses, checked against a
 * real Orthanc 1.10 by hand: non-DICOM entries are skipped), plus our
 * "Failure" entries for DICOM entries that could not be stored.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { makeZip } from '../support/makeZip.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { havePydicomSamples, sample } from '../support/samples.js';

const ready = peerAvailable('python3-pydicom', havePydicomSamples);

describe.skipIf(!ready)(`POST /instances with a ZIP archive${skipNote('python3-pydicom', ready)}`, () => {
  let engine: TestEngine;
  let dir: string;
  let zip: Buffer;
  let uids: Record<string, string>;

  beforeAll(async () => {
    engine = await startTestEngine();
    dir = await mkdtemp(join(tmpdir(), 'zip-upload-'));
    uids = makeZip(join(dir, 'upload.zip'), [
      { name: 'study/CT_small.dcm', file: sample('CT_small.dcm'), method: 'deflated' },
      { name: 'MR_small.dcm', file: sample('MR_small.dcm'), method: 'stored' },
      { name: 'readme.txt', text: 'not DICOM' },
      { name: 'broken/truncated.dcm', file: sample('MR_small_RLE.dcm'), truncate: 600 },
    ]);
    zip = await readFile(join(dir, 'upload.zip'));
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: Buffer) => fetch(`${engine.url}/instances`, { method: 'POST', body, headers: { 'Content-Type': 'application/zip' } });

  it('stores every DICOM entry, answers Orthanc-style objects, skips the text and reports the broken entry', async () => {
    const res = await post(zip);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Array<Record<string, string>>;
    const stored = answer.filter((a) => a.Status === 'Success');
    expect(stored).toHaveLength(2);
    const failures = answer.filter((a) => a.Status === 'Failure');
    expect(failures).toEqual([expect.objectContaining({ Entry: 'broken/truncated.dcm' })]);
    // Cut at 600 bytes the header stops before the Study Instance UID: the store says so.
    expect(failures[0]!.Message).toMatch(/missing StudyInstanceUID/);
    expect(answer).toHaveLength(3);

    // The IDs answered are the stored instances, whose SOP Instance UIDs are the DICOM entries'.
    for (const a of stored) {
      expect(a.Path).toBe(`/instances/${a.ID}`);
      const tags = (await (await fetch(`${engine.url}/instances/${a.ID}`)).json()) as { MainDicomTags: { SOPInstanceUID: string } };
      expect([uids['study/CT_small.dcm'], uids['MR_small.dcm']]).toContain(tags.MainDicomTags.SOPInstanceUID);
    }
    const file = await (await fetch(`${engine.url}/instances/${stored[0]!.ID}/file`)).arrayBuffer();
    const original = await readFile(sample(stored[0]!.ID === answer[0]!.ID ? 'CT_small.dcm' : 'MR_small.dcm'));
    expect(Buffer.from(file).equals(original)).toBe(true);
  });

  it('answers AlreadyStored for the same archive again, and leaves no temp file behind', async () => {
    const answer = (await (await post(zip)).json()) as Array<Record<string, string>>;
    expect(answer.filter((a) => a.Status === 'AlreadyStored')).toHaveLength(2);
    expect(await readdir(join(engine.store.storageDirectory, 'tmp')).catch(() => [])).toEqual([]);
    const instances = (await (await fetch(`${engine.url}/instances`)).json()) as string[];
    expect(instances).toHaveLength(2);
  });

  it('streams a ZIP body to disk instead of memory: one announced larger than the 2 GiB a single file may be is taken, and when the client goes away nothing is left', async () => {
    const tempFolder = join(engine.store.storageDirectory, 'tmp');
    const url = new URL(`${engine.url}/instances`);
    // 3 GiB announced; the archive's first 64 KiB sent (or all of it), then the connection is dropped.
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Type': 'application/zip', 'Content-Length': String(3 * 1024 ** 3) } });
    let answered: number | undefined;
    req.on('response', (res) => (answered = res.statusCode));
    req.on('error', () => undefined); // the abort below
    req.write(zip.subarray(0, 64 * 1024));
    // The server writes what arrives to its temp folder (a body it buffered would have been refused with 413 at once).
    const deadline = Date.now() + 10_000;
    let spooled: string[] = [];
    while (Date.now() < deadline && spooled.length === 0) {
      spooled = (await readdir(tempFolder).catch(() => [] as string[])).filter((f) => f.endsWith('.zip'));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(answered).toBeUndefined();
    expect(spooled).toHaveLength(1);
    req.destroy();
    const until = Date.now() + 10_000;
    while (Date.now() < until && (await readdir(tempFolder)).some((f) => f.endsWith('.zip'))) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await readdir(tempFolder)).toEqual([]);
    // And the server keeps serving.
    expect((await fetch(`${engine.url}/instances`)).status).toBe(200);
  });
});
