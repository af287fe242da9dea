/**
 * The STOW-RS client's pieces on a real store with real files: resources to
 * instances, the split into requests (StowMaxInstances / StowMaxSize), the
 * streamed multipart body (read back with our multipart reader: same bytes,
 * declared length exact) and the reading of remote answers (PS3.18 10.5.3).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { readMultipart } from '../../../main/dicomweb/multipart.js';
import { CHUNKED_REQUEST_MIN_BYTES, planChunkedRequests, planStowRequests, stowLimits } from '../../../main/remote/stowBatches.js';
import { stowBody, stowBodyLength } from '../../../main/remote/stowBody.js';
import { describeReason, parseStowDataset, readStowAnswer } from '../../../main/remote/stowAnswer.js';
import { parseStowRequest } from '../../../main/remote/stowRequest.js';
import { resolveStowResources, type StowInstance } from '../../../main/remote/stowResources.js';
import type { StoreOutcome } from '../../../main/store/types.js';
import { synthStudy } from '../../support/synth.js';
import { tempStore, type TempStore } from '../store/tempStore.js';

let t: TempStore;
let outcomes: Extract<StoreOutcome, { ok: true }>[];
const BOUNDARY = 'test-boundary-0123456789abcdef';
const fake = (sizes: number[]): StowInstance[] => sizes.map((size, i) => ({ id: `i${i}`, sopInstanceUID: `1.${i}`, sopClassUID: '1.2', path: '/nowhere', size }));

beforeAll(async () => {
  t = tempStore('stow-test-');
  // Two series of 5 (64x64), and a second patient with one series of 3 bigger images.
  const a = synthStudy({ key: 'stow-a', patientID: 'PA', patientName: 'ALPHA^A', series: 2, instancesPerSeries: 5 });
  const b = synthStudy({ key: 'stow-b', patientID: 'PB', patientName: 'BETA^B', series: 1, instancesPerSeries: 3, rows: 800, columns: 800 });
  const stored = await t.store.storeInstances([...a, ...b]);
  outcomes = stored.filter((o): o is Extract<StoreOutcome, { ok: true }> => o.ok);
  expect(outcomes).toHaveLength(13);
});
afterAll(() => t?.cleanup());

const collect = async (body: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe('resolving resources to instances', () => {
  it('expands a patient, a study, a series and an instance to their instances, each once', () => {
    const first = outcomes[0]!.ids;
    const all = resolveStowResources(t.store, [first.patient, first.study, first.series, first.instance], 'stow');
    expect(all.map((i) => i.id).sort()).toEqual(outcomes.slice(0, 10).map((o) => o.ids.instance).sort());
    expect(resolveStowResources(t.store, [first.series], 'stow')).toHaveLength(5);
    const one = resolveStowResources(t.store, [first.instance], 'stow');
    expect(one).toEqual([expect.objectContaining({ id: first.instance, sopInstanceUID: outcomes[0]!.sopInstanceUID, size: readFileSync(one[0]!.path).length })]);
  });

  it('refuses an unknown identifier with a not-found error naming it', () => {
    let error: unknown;
    try {
      resolveStowResources(t.store, ['01234567-89abcdef-01234567-89abcdef-01234567'], "stow to 'x'");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('not-found');
    expect((error as AppError).message).toContain('01234567-89abcdef-01234567-89abcdef-01234567');
  });
});

describe('splitting into requests', () => {
  it('cuts 10 instances into 4 requests of at most 3', () => {
    const batches = planStowRequests(fake(Array(10).fill(1000)), stowLimits(3, 0), BOUNDARY);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
  });

  it('keeps every request body under StowMaxSize, an oversized instance alone', () => {
    const MB = 1024 * 1024;
    const instances = fake([400_000, 400_000, 400_000, 3 * MB, 100, 1_000_000]);
    const batches = planStowRequests(instances, stowLimits(0, 1), BOUNDARY);
    expect(batches.map((b) => b.map((i) => i.id))).toEqual([['i0', 'i1'], ['i2'], ['i3'], ['i4', 'i5']]);
    for (const b of batches) if (b.length > 1) expect(stowBodyLength(b, BOUNDARY)).toBeLessThanOrEqual(MB);
  });

  it('sends one request when both limits are 0, and none for no instance', () => {
    expect(planStowRequests(fake(Array(25).fill(5 * 1024 * 1024)), stowLimits(0, 0), BOUNDARY)).toHaveLength(1);
    expect(planStowRequests([], stowLimits(10, 10), BOUNDARY)).toEqual([]);
  });
});

describe('cutting a chunked call (ChunkedTransfers)', () => {
  const ids = (batches: StowInstance[][]) => batches.map((b) => b.map((i) => i.id));

  it('keeps a small call in one request', () => {
    const small = fake(Array(50).fill(40_000)); // 2 MB
    expect(ids(planChunkedRequests(small, 4, BOUNDARY))).toEqual([small.map((i) => i.id)]);
    expect(planChunkedRequests([], 4, BOUNDARY)).toEqual([]);
  });

  it('cuts a large call into consecutive requests of similar size, at most one per lane, none under the minimum', () => {
    const many = fake(Array(1000).fill(40_000)); // 40 MB: four lanes of ~10 MB
    const four = planChunkedRequests(many, 4, BOUNDARY);
    expect(four.map((b) => b.length)).toEqual([250, 250, 250, 250]);
    expect(four.flat().map((i) => i.id)).toEqual(many.map((i) => i.id)); // order kept, nothing twice
    const two = planChunkedRequests(fake(Array(100).fill(100_000)), 4, BOUNDARY); // 10 MB: two lanes of 5 MB
    expect(two).toHaveLength(Math.floor((100 * 100_000) / CHUNKED_REQUEST_MIN_BYTES));
    expect(planChunkedRequests(many, 1, BOUNDARY)).toHaveLength(1);
  });

  it('never leaves a request empty, even with uneven instances', () => {
    const uneven = fake([30 * 1024 * 1024, 1000, 1000, 1000]);
    const batches = planChunkedRequests(uneven, 4, BOUNDARY);
    expect(batches.every((b) => b.length > 0)).toBe(true);
    expect(batches.flat()).toHaveLength(4);
  });
});

describe('the multipart body', () => {
  it('streams the stored files unchanged, with the exact length declared up front', async () => {
    const instances = resolveStowResources(t.store, outcomes.map((o) => o.ids.instance), 'stow');
    let bytes = 0;
    const done: string[] = [];
    const body = await collect(
      stowBody(instances, { boundary: BOUNDARY, signal: new AbortController().signal, what: 'stow', failure: {}, onBytes: (n) => (bytes += n), onInstance: (i) => done.push(i.id) }),
    );
    expect(body.length).toBe(stowBodyLength(instances, BOUNDARY));
    expect(bytes).toBe(body.length);
    expect(done).toEqual(instances.map((i) => i.id));
    const parts = [];
    for await (const part of readMultipart((async function* () {
      yield body;
    })(), BOUNDARY)) parts.push(part);
    expect(parts).toHaveLength(instances.length);
    parts.forEach((part, k) => {
      expect(part.headers['content-type']).toBe('application/dicom');
      expect(part.headers['content-length']).toBe(String(instances[k]!.size));
      expect(part.body.equals(readFileSync(instances[k]!.path))).toBe(true);
    });
  });

  it('fails with a message naming the instance when a stored file has gone', async () => {
    const instances = resolveStowResources(t.store, [outcomes[3]!.ids.instance], 'stow').map((i) => ({ ...i, path: `${i.path}.gone` }));
    const failure: { error?: AppError } = {};
    const error = await collect(stowBody(instances, { boundary: BOUNDARY, signal: new AbortController().signal, what: "stow to 'x'", failure, onBytes: () => {}, onInstance: () => {} })).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(failure.error?.message).toContain(instances[0]!.id);
    expect(failure.error?.message).toContain('ENOENT');
  });

  it('fails with a message naming the instance when a stored file is shorter than the index says', async () => {
    const [instance] = resolveStowResources(t.store, [outcomes[4]!.ids.instance], 'stow');
    const copy = join(t.dir, 'short-copy.dcm');
    writeFileSync(copy, readFileSync(instance!.path).subarray(0, 1000));
    const failure: { error?: AppError } = {};
    const error = await collect(stowBody([{ ...instance!, path: copy }], { boundary: BOUNDARY, signal: new AbortController().signal, what: "stow to 'x'", failure, onBytes: () => {}, onInstance: () => {} })).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(failure.error?.kind).toBe('store-corrupt');
    expect(failure.error?.message).toContain(instance!.id);
    expect(failure.error?.message).toContain(`the index says ${instance!.size} bytes`);
  });

  it('sends small and big files mixed in their order, small ones gathered into few large writes', async () => {
    const all = resolveStowResources(t.store, outcomes.map((o) => o.ids.instance), 'stow');
    const mixed = [all[0]!, all[11]!, ...all.slice(1, 10), all[12]!, all[10]!]; // small, big, 9 small, big, big
    const chunks: Buffer[] = [];
    for await (const c of stowBody(mixed, { boundary: BOUNDARY, signal: new AbortController().signal, what: 'stow', failure: {}, onBytes: () => {}, onInstance: () => {} })) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(stowBodyLength(mixed, BOUNDARY));
    const parts = [];
    for await (const part of readMultipart((async function* () {
      yield body;
    })(), BOUNDARY)) parts.push(part);
    parts.forEach((part, k) => expect(part.body.equals(readFileSync(mixed[k]!.path)), `part ${k}`).toBe(true));
    // The nine small files in a row travel as one write with their part heads.
    const nine = mixed.slice(2, 11).reduce((n, i) => n + i.size, 0);
    expect(chunks.some((c) => c.length > nine && c.length < nine + 9 * 256)).toBe(true);
  });

  it('stops at once when cancelled', async () => {
    const instances = resolveStowResources(t.store, outcomes.map((o) => o.ids.instance), 'stow');
    const controller = new AbortController();
    controller.abort();
    const failure: { error?: AppError } = {};
    await collect(stowBody(instances, { boundary: BOUNDARY, signal: controller.signal, what: 'stow', failure, onBytes: () => {}, onInstance: () => {} })).catch(() => undefined);
    expect(failure.error?.kind).toBe('cancelled');
  });

  it('reads a file bigger than the whole-file threshold as a stream', async () => {
    const big = resolveStowResources(t.store, [outcomes[12]!.ids.series], 'stow');
    expect(big[0]!.size).toBeGreaterThan(1024 * 1024);
    const body = await collect(stowBody(big, { boundary: BOUNDARY, signal: new AbortController().signal, what: 'stow', failure: {}, onBytes: () => {}, onInstance: () => {} }));
    expect(body.length).toBe(stowBodyLength(big, BOUNDARY));
  });
});

describe('reading the remote answer', () => {
  const sent: StowInstance[] = [1, 2, 3].map((k) => ({ id: `id${k}`, sopInstanceUID: `1.2.3.${k}`, sopClassUID: '1.2', path: '', size: 1 }));
  const ref = (uid: string, extra: Record<string, unknown> = {}) => ({ '00081150': { vr: 'UI', Value: ['1.2'] }, '00081155': { vr: 'UI', Value: [uid] }, ...extra });
  const answer = (o: unknown) => Buffer.from(JSON.stringify(o));

  it('lists what was stored and what was refused with its FailureReason', () => {
    const dataset = parseStowDataset(
      answer({
        '00081199': { vr: 'SQ', Value: [ref('1.2.3.1'), ref('1.2.3.2', { '00081196': { vr: 'US', Value: [0xb000] } })] },
        '00081198': { vr: 'SQ', Value: [ref('1.2.3.3', { '00081197': { vr: 'US', Value: [0xc000] } })] },
      }),
    );
    const read = readStowAnswer(202, dataset, sent);
    expect(read.stored).toEqual([{ ID: 'id1', SOPInstanceUID: '1.2.3.1' }, expect.objectContaining({ ID: 'id2', WarningReason: 0xb000 })]);
    expect(read.failed).toEqual([expect.objectContaining({ ID: 'id3', SOPInstanceUID: '1.2.3.3', FailureReason: 0xc000 })]);
    expect(read.failed[0]!.Message).toContain('0xC000 (Error: cannot understand)');
  });

  it("counts an instance missing from both sequences as refused (Orthanc 1.10's HTTP 400 answer)", () => {
    const dataset = parseStowDataset(answer({ '00081198': { vr: 'SQ' }, '00081199': { vr: 'SQ', Value: [ref('1.2.3.2')] } }));
    const read = readStowAnswer(400, dataset, sent);
    expect(read.stored.map((s) => s.ID)).toEqual(['id2']);
    expect(read.failed.map((f) => [f.ID, f.FailureReason])).toEqual([['id1', null], ['id3', null]]);
    expect(read.failed[0]!.Message).toContain('HTTP 400');
  });

  it('takes lower-case tags, and counts a 200 without a readable dataset as stored with a warning', () => {
    const dataset = parseStowDataset(answer({ '00081199': { vr: 'SQ', Value: sent.map((s) => ({ '00081155': { vr: 'UI', Value: [s.sopInstanceUID] } })) } }));
    expect(readStowAnswer(200, dataset, sent).stored).toHaveLength(3);
    expect(parseStowDataset(Buffer.from('<NativeDicomModel/>'))).toBeUndefined();
    const blind = readStowAnswer(200, undefined, sent);
    expect(blind.stored).toHaveLength(3);
    expect(blind.warnings[0]).toContain('HTTP 200');
  });

  it('names reasons by their PS3.18 meaning', () => {
    expect(describeReason(0xa700)).toBe('0xA700 (Refused: out of resources)');
    expect(describeReason(0xa7ff)).toBe('0xA7FF (Refused: out of resources)');
    expect(describeReason(0x1234)).toBe('0x1234');
  });
});

describe('the request body', () => {
  it('takes Resources, HttpHeaders and Synchronous, synchronous by default as in Orthanc', () => {
    expect(parseStowRequest({ Resources: ['a'] }, 'stow')).toEqual({ resources: ['a'], httpHeaders: {}, synchronous: true });
    expect(parseStowRequest({ Resources: ['a'], Synchronous: false, HttpHeaders: { Cookie: 'x=1' } }, 'stow')).toEqual({
      resources: ['a'],
      httpHeaders: { Cookie: 'x=1' },
      synchronous: false,
    });
    expect(parseStowRequest({ Resources: [], Asynchronous: true }, 'stow').synchronous).toBe(false);
  });

  it('refuses a body without Resources and header values that are not strings, without showing the value', () => {
    expect(() => parseStowRequest({ Resource: ['a'] }, "stow to 'x'")).toThrow(/stow to 'x'.*"Resources"/);
    expect(() => parseStowRequest({ Resources: [1] }, 'stow')).toThrow(/Resources\[0\]/);
    let message = '';
    try {
      parseStowRequest({ Resources: ['a'], HttpHeaders: { Authorization: 'secret\r\nX: y' } }, 'stow');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('Authorization');
    expect(message).not.toContain('secret');
  });
});
