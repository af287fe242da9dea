import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AppError } from '../../../main/errors.js';
import type { ImportProgress } from '../../../main/store/types.js';
import { sample } from '../../support/samples.js';
import { synthStudy } from '../../support/synth.js';
import { tempStore, type TempStore } from './tempStore.js';
import { importCancelledAfterFirst } from '../../support/cancelledImport.js';

let t: TempStore;
let source: string;
beforeEach(() => {
  t = tempStore('store-import-');
  source = join(t.dir, 'source');
});
afterEach(() => t.cleanup());

/** A folder tree: 120 synthetic instances spread over nested folders, two pydicom samples, non-DICOM files, a truncated DICOM file. */
function makeTree(): { dicom: number; notDicom: number; truncated: string } {
  const files = synthStudy({ key: 'import', patientID: 'IMP', patientName: 'IMPORT^TREE', series: 3, instancesPerSeries: 40 });
  files.forEach((bytes, k) => {
    const folder = join(source, `series${k % 3}`, k % 2 ? 'odd' : 'even');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `IM${k}`), bytes);
  });
  mkdirSync(join(source, 'samples', 'deeper'), { recursive: true });
  copyFileSync(sample('CT_small.dcm'), join(source, 'samples', 'ct.dcm'));
  copyFileSync(sample('MR_small.dcm'), join(source, 'samples', 'deeper', 'mr'));
  writeFileSync(join(source, 'README.txt'), 'not an image\n');
  writeFileSync(join(source, 'samples', 'deeper', 'thumbs.db'), Buffer.alloc(4000, 7));
  writeFileSync(join(source, 'series1', 'empty'), Buffer.alloc(0));
  const truncated = join(source, 'samples', 'truncated.dcm');
  writeFileSync(truncated, files[0]!.subarray(0, 600));
  return { dicom: files.length + 2, notDicom: 3, truncated };
}

describe('importPaths', () => {
  test('imports DICOM files from nested folders, skips and counts non-DICOM files, reports broken DICOM as failures', async () => {
    const tree = makeTree();
    const report = await t.store.importPaths([source]);
    expect(report).toMatchObject({ stored: tree.dicom, alreadyStored: 0, skippedNotDicom: tree.notDicom, failed: 1 });
    expect(report.filesSeen).toBe(tree.dicom + tree.notDicom + 1);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]!.path).toBe(tree.truncated);
    expect(report.failures[0]!.message.length).toBeGreaterThan(10);
    expect(t.store.statistics()).toMatchObject({ CountInstances: tree.dicom, CountStudies: 3 });
  });

  test('importing the same folder again counts every instance as already stored', async () => {
    const tree = makeTree();
    await t.store.importPaths([source]);
    const again = await t.store.importPaths([source]);
    expect(again).toMatchObject({ stored: 0, alreadyStored: tree.dicom, failed: 1 });
  });

  test('single files can be given, and a path that does not exist is a failure, not an exception', async () => {
    makeTree();
    const missing = join(source, 'no-such-file.dcm');
    const report = await t.store.importPaths([join(source, 'samples', 'ct.dcm'), missing]);
    expect(report).toMatchObject({ filesSeen: 2, stored: 1, failed: 1 });
    expect(report.failures[0]!.path).toBe(missing);
    expect(report.failures[0]!.message).toMatch(/ENOENT/);
  });

  test('progress is reported while importing and a last time with the final counts', async () => {
    const tree = makeTree();
    const seen: ImportProgress[] = [];
    const report = await t.store.importPaths([source], { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThan(report.filesSeen); // throttled
    const last = seen[seen.length - 1]!;
    expect(last).toMatchObject({ stored: tree.dicom, filesSeen: report.filesSeen, skippedNotDicom: tree.notDicom });
    for (let k = 1; k < seen.length; k++) expect(seen[k]!.filesSeen).toBeGreaterThanOrEqual(seen[k - 1]!.filesSeen);
  });

  test('an aborted import rejects as cancelled with what was done so far, and keeps what it stored', async () => {
    makeTree();
    const error = await importCancelledAfterFirst(t.store, [source]);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('cancelled');
    const report = (error as AppError).details!.report as { stored: number; filesSeen: number };
    expect(report.stored).toBeGreaterThan(0);
    expect(report.filesSeen).toBeLessThan(126);
    expect(t.store.statistics().CountInstances).toBe(report.stored);
  });
});
