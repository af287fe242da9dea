import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { importPaths } from '../../../main/store/importPaths.js';
import type { ImportProgress, ImportReport, Store } from '../../../main/store/types.js';
import { havePydicomSamples, sample } from '../../support/samples.js';
import { synthStudy } from '../../support/synth.js';
import { makeZip } from '../../support/makeZip.js';
import { tempStore, type TempStore } from './tempStore.js';
import { importCancelledAfterFirst } from '../../support/cancelledImport.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore('store-zip-');
});
afterEach(() => t.cleanup());

/** SOP Instance UID → stored file bytes, for every instance in the store. */
function storedInstances(store: Store): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  for (const id of store.listResources('instance')) {
    const instance = store.getInstance(id)!;
    found.set(instance.sopInstanceUID, readFileSync(instance.path));
  }
  return found;
}

function failureOf(report: ImportReport, path: string): string {
  const failure = report.failures.find((f) => f.path === path);
  expect(failure, `a failure for ${path} in ${JSON.stringify(report.failures)}`).toBeDefined();
  return failure!.message;
}

/** Open descriptors of this process on `path` (Linux /proc), or undefined where /proc is not there. */
function openDescriptors(path: string): number | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)) === path;
    } catch {
      return false;
    }
  }).length;
}

describe.skipIf(!havePydicomSamples)('ZIP import', () => {
  test('stored and deflated entries in nested folders are imported; text skipped, a truncated DICOM entry failed by name, directory entries ignored', async () => {
    const zip = join(t.dir, 'study.zip');
    const uids = makeZip(zip, [
      { name: 'DICOM/', method: 'stored' },
      { name: 'DICOM/CT/', method: 'stored' },
      { name: 'DICOM/CT/ct.dcm', file: sample('CT_small.dcm'), method: 'deflated' },
      { name: 'DICOM/MR/deeper/mr_rle', file: sample('MR_small_RLE.dcm'), method: 'stored' },
      { name: 'DICOM/j2k.dcm', file: sample('JPEG2000.dcm'), method: 'deflated' },
      { name: 'raw/no_meta', file: sample('ExplVR_LitEndNoMeta.dcm'), method: 'stored' },
      { name: 'rtplan.dcm', file: sample('rtplan.dcm'), method: 'deflated' },
      { name: 'README.txt', text: 'burned with SomeViewer 1.0\n', method: 'deflated' },
      { name: 'DICOM/broken/truncated.dcm', file: sample('MR_small.dcm'), truncate: 600, method: 'deflated' },
    ]);
    expect(Object.keys(uids)).toHaveLength(5);

    const report = await t.store.importPaths([zip]);

    expect(report).toMatchObject({ filesSeen: 7, stored: 5, alreadyStored: 0, skippedNotDicom: 1, failed: 1, dicomdirs: 0 });
    expect(failureOf(report, `${zip}!DICOM/broken/truncated.dcm`)).toMatch(/^truncated at offset 600/);
    const stored = storedInstances(t.store);
    expect([...stored.keys()].sort()).toEqual(Object.values(uids).sort());
    // Stored unchanged: the bytes are the sample's.
    expect(stored.get(uids['DICOM/CT/ct.dcm']!)!.equals(readFileSync(sample('CT_small.dcm')))).toBe(true);
    expect(stored.get(uids['DICOM/MR/deeper/mr_rle']!)!.equals(readFileSync(sample('MR_small_RLE.dcm')))).toBe(true);
    expect(report.bytes).toBe(['CT_small.dcm', 'MR_small_RLE.dcm', 'JPEG2000.dcm', 'ExplVR_LitEndNoMeta.dcm', 'rtplan.dcm'].reduce((n, f) => n + readFileSync(sample(f)).length, 0) + 600);
  });

  test("an entry named '../escape/…' is read as data only: its instance is stored and nothing is written outside the store", async () => {
    const folder = join(t.dir, 'incoming', 'inner');
    mkdirSync(folder, { recursive: true });
    const zip = join(folder, 'slip.zip');
    const uids = makeZip(zip, [
      { name: '../escape/rtstruct.dcm', file: sample('rtstruct.dcm') },
      { name: '../../../../../../tmp/zip-slip-probe.dcm', file: sample('CT_small.dcm') },
    ]);
    const report = await t.store.importPaths([zip]);
    expect(report).toMatchObject({ stored: 2, failed: 0 });
    expect([...storedInstances(t.store).keys()].sort()).toEqual(Object.values(uids).sort());
    expect(existsSync(join(t.dir, 'incoming', 'escape'))).toBe(false);
    expect(existsSync(join(folder, '..', 'escape', 'rtstruct.dcm'))).toBe(false);
  });

  test('an archive is recognised by its signature whatever its name, and by a .ZIP name in any case', async () => {
    const noName = join(t.dir, 'export.bin');
    const upper = join(t.dir, 'EXPORT.ZIP');
    makeZip(noName, [{ name: 'ct', file: sample('CT_small.dcm') }]);
    makeZip(upper, [{ name: 'mr', file: sample('MR_small.dcm') }]);
    const report = await t.store.importPaths([noName, upper]);
    expect(report).toMatchObject({ filesSeen: 2, stored: 2, failed: 0 });
  });

  test('encrypted entries and unsupported compression methods are failures with the reason; the other entries are imported', async () => {
    const zip = join(t.dir, 'mixed.zip');
    makeZip(zip, [
      { name: 'a/secret.dcm', file: sample('CT_small.dcm'), encryptedFlag: true },
      { name: 'a/bzip2.dcm', file: sample('MR_small.dcm'), method: 'bzip2' },
      { name: 'a/lzma.dcm', file: sample('rtplan.dcm'), method: 'lzma' },
      { name: 'a/fine.dcm', file: sample('rtstruct.dcm'), method: 'deflated' },
    ]);
    const report = await t.store.importPaths([zip]);
    expect(report).toMatchObject({ filesSeen: 4, stored: 1, failed: 3 });
    expect(failureOf(report, `${zip}!a/secret.dcm`)).toMatch(/encrypted/);
    expect(failureOf(report, `${zip}!a/bzip2.dcm`)).toMatch(/compression method 12 \(bzip2\) is not supported/);
    expect(failureOf(report, `${zip}!a/lzma.dcm`)).toMatch(/compression method 14 \(LZMA\) is not supported/);
  });

  test('zip bomb guards: an entry over the size limit, an entry inflating past its declared size, overlapping entries and a damaged entry are refused', async () => {
    const zeros = join(t.dir, 'zeros.dcm');
    // A Part-10 file padded with 3 MB of zeros: deflates to a few kB.
    writeFileSync(zeros, Buffer.concat([readFileSync(sample('CT_small.dcm')), Buffer.alloc(3 * 1024 * 1024)]));
    const ctSize = readFileSync(sample('CT_small.dcm')).length;
    const zip = join(t.dir, 'bomb.zip');
    makeZip(zip, [
      { name: 'big.dcm', file: zeros, method: 'deflated' },
      { name: 'liar.dcm', file: sample('CT_small.dcm'), method: 'deflated', declaredSize: ctSize - 1000 },
      { name: 'first.dcm', file: sample('MR_small.dcm'), method: 'deflated' },
      { name: 'again.dcm', file: sample('MR_small.dcm'), method: 'deflated', overlapWith: 'first.dcm' },
      { name: 'flipped.dcm', file: sample('rtplan.dcm'), method: 'stored', flipByte: 400 },
      { name: 'fine.dcm', file: sample('rtstruct.dcm'), method: 'deflated' },
    ]);
    const report = await importPaths((files) => t.store.storeInstances(files), [zip], { zipLimits: { maxEntryBytes: 1024 * 1024 } });
    expect(report).toMatchObject({ filesSeen: 6, stored: 2, failed: 4 });
    expect(failureOf(report, `${zip}!big.dcm`)).toMatch(/declares 3\d{6} bytes uncompressed, more than the 1048576/);
    expect(failureOf(report, `${zip}!liar.dcm`)).toMatch(/too many bytes in the stream/);
    expect(failureOf(report, `${zip}!again.dcm`)).toMatch(/overlap another entry/);
    expect(failureOf(report, `${zip}!flipped.dcm`)).toMatch(/CRC-32 mismatch/);
    expect(t.store.statistics().CountInstances).toBe(2);
  });

  test('a file named .zip that is not an archive is one failure naming it; a ZIP inside the ZIP is a failure, a DICOMDIR entry is counted and not stored', async () => {
    const fake = join(t.dir, 'fake.zip');
    writeFileSync(fake, 'this is not a zip archive at all');
    const inner = join(t.dir, 'inner.zip');
    makeZip(inner, [{ name: 'ct.dcm', file: sample('CT_small.dcm') }]);
    const outer = join(t.dir, 'outer.zip');
    makeZip(outer, [
      { name: 'inner.zip', file: inner, method: 'stored' },
      { name: 'CD/DICOMDIR', file: join(sample('dicomdirtests'), 'DICOMDIR') },
      { name: 'CD/77654033/CR1/6154', file: join(sample('dicomdirtests'), '77654033', 'CR1', '6154') },
    ]);
    const report = await t.store.importPaths([fake, outer]);
    expect(report).toMatchObject({ filesSeen: 4, stored: 1, dicomdirs: 1, failed: 2 });
    expect(failureOf(report, fake)).toMatch(/not a readable ZIP archive/);
    expect(failureOf(report, `${outer}!inner.zip`)).toMatch(/ZIP archive inside the archive/);
    expect(t.store.statistics().CountInstances).toBe(1);
  });

  test('a damaged central directory fails the rest of the archive with how far it got; the entries before it are kept', async () => {
    const zip = join(t.dir, 'damaged.zip');
    makeZip(zip, [
      { name: 'ct.dcm', file: sample('CT_small.dcm') },
      { name: 'mr.dcm', file: sample('MR_small.dcm'), breakCentralRecord: true },
      { name: 'rtplan.dcm', file: sample('rtplan.dcm') },
    ]);
    const report = await t.store.importPaths([zip]);
    expect(report).toMatchObject({ stored: 1, failed: 1 });
    expect(failureOf(report, zip)).toMatch(/damaged after 1 of 3 entries: invalid central directory file header signature/);
    expect(t.store.statistics().CountInstances).toBe(1);
  });

  test('progress names the archive with entries done and total', async () => {
    const files = synthStudy({ key: 'zip-progress', patientID: 'ZP', patientName: 'ZIP^PROGRESS', series: 2, instancesPerSeries: 60 });
    const folder = join(t.dir, 'synth');
    mkdirSync(folder);
    const entries = files.map((bytes, k) => {
      writeFileSync(join(folder, `IM${k}`), bytes);
      return { name: `series${k % 2}/IM${k}`, file: join(folder, `IM${k}`) };
    });
    const zip = join(t.dir, 'progress.zip');
    makeZip(zip, entries);
    const seen: ImportProgress[] = [];
    const report = await t.store.importPaths([zip], { onProgress: (p) => seen.push(p) });
    expect(report.stored).toBe(120);
    const inside = seen.filter((p) => p.container);
    expect(inside.length).toBeGreaterThanOrEqual(2);
    for (const p of inside) expect(p.container).toMatchObject({ kind: 'zip', path: zip, total: 120 });
    for (let k = 1; k < inside.length; k++) expect(inside[k]!.container!.done).toBeGreaterThanOrEqual(inside[k - 1]!.container!.done);
    expect(seen[seen.length - 1]!.container).toBeUndefined();
    expect(report.container).toBeUndefined();
  });

  test('cancelling in the middle of an archive leaves the store consistent: every instance fully stored or absent, the archive closed; importing again completes it', async () => {
    const files = synthStudy({ key: 'zip-cancel', patientID: 'ZC', patientName: 'ZIP^CANCEL', series: 3, instancesPerSeries: 50 });
    const folder = join(t.dir, 'synth');
    mkdirSync(folder);
    const bySop = new Map<string, Buffer>();
    const entries = files.map((bytes, k) => {
      writeFileSync(join(folder, `IM${k}`), bytes);
      return { name: `s${k % 3}/IM${k}`, file: join(folder, `IM${k}`) };
    });
    const zip = join(t.dir, 'cancel.zip');
    const uids = makeZip(zip, entries);
    for (const [name, uid] of Object.entries(uids)) bySop.set(uid, files[Number(name.slice(name.indexOf('IM') + 2))]!);

    const error = await importCancelledAfterFirst(t.store, [zip]);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('cancelled');
    const report = (error as AppError).details!.report as ImportReport;
    expect(report.stored).toBeGreaterThan(0);
    expect(report.stored).toBeLessThan(150);
    expect(report.container).toMatchObject({ kind: 'zip', path: zip, total: 150 });

    const check = (store: Store) => {
      const stored = storedInstances(store);
      expect(stored.size).toBe(report.stored);
      for (const [uid, bytes] of stored) expect(bytes.equals(bySop.get(uid)!), `instance ${uid} stored whole`).toBe(true);
    };
    check(t.store);
    const descriptors = openDescriptors(zip);
    if (descriptors !== undefined) expect(descriptors).toBe(0);
    check(t.reopen()); // recovery finds nothing half-done

    const again = await t.store.importPaths([zip]);
    expect(again).toMatchObject({ stored: 150 - report.stored, alreadyStored: report.stored, failed: 0 });
    expect(t.store.statistics().CountInstances).toBe(150);
  });
});
