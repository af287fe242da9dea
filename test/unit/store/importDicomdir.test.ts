import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MEDIA_STORAGE_DIRECTORY_STORAGE } from '../../../main/store/dicomdir.js';
import type { ImportProgress, Store } from '../../../main/store/types.js';
import { PYDICOM_TEST_FILES, havePydicomSamples } from '../../support/samples.js';
import { tempStore, type TempStore } from './tempStore.js';

const MEDIUM = join(PYDICOM_TEST_FILES, 'dicomdirtests');
const TINY_ALPHA = join(MEDIUM, 'TINY_ALPHA');

let t: TempStore;
beforeEach(() => {
  t = tempStore('store-dicomdir-');
});
afterEach(() => t.cleanup());

/** Runs Python with pydicom; `script` reads sys.argv[1:]. */
function python(script: string, ...args: string[]): string {
  // pydicom warns about the lower-case CS values some tests write on purpose.
  return execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', script, ...args], { encoding: 'utf8' });
}

/** What pydicom reads in a DICOMDIR: each referenced file (components) with the SOP Instance UID its record names. */
function referencedByPydicom(dicomdir: string): Array<{ components: string[]; sopInstanceUID: string }> {
  const script = `
import json, sys, pydicom
d = pydicom.dcmread(sys.argv[1])
print(json.dumps([{'components': list(r.ReferencedFileID) if r['ReferencedFileID'].VM > 1 else [r.ReferencedFileID],
                   'sopInstanceUID': str(r.ReferencedSOPInstanceUIDInFile)}
                  for r in d.DirectoryRecordSequence if 'ReferencedFileID' in r]))`;
  return JSON.parse(python(script, dicomdir)) as Array<{ components: string[]; sopInstanceUID: string }>;
}

function storedSops(store: Store): Map<string, { sopClassUID: string; path: string }> {
  const found = new Map<string, { sopClassUID: string; path: string }>();
  for (const id of store.listResources('instance')) {
    const instance = store.getInstance(id)!;
    found.set(instance.sopInstanceUID, { sopClassUID: instance.sopClassUID, path: instance.path });
  }
  return found;
}

/** Renames every file and folder under `root` (deepest first) with `rename(name)`. */
function renameTree(root: string, rename: (name: string) => string): void {
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) renameTree(path, rename);
    const renamed = rename(name);
    if (renamed !== name) renameSync(path, join(root, renamed));
  }
}

/** A copy of the medium with only its DICOMDIR and the three folders it references. */
function copyMedium(): string {
  const copy = join(t.dir, 'CDROM');
  for (const name of ['DICOMDIR', '77654033', '98892001', '98892003']) cpSync(join(MEDIUM, name), join(copy, name), { recursive: true });
  return copy;
}

describe.skipIf(!havePydicomSamples)('DICOMDIR import', () => {
  test("pydicom's DICOMDIR medium: every referenced instance is imported, the DICOMDIR and the files it does not name are not", async () => {
    const expected = referencedByPydicom(join(MEDIUM, 'DICOMDIR'));
    expect(expected).toHaveLength(31);
    const seen: ImportProgress[] = [];
    const report = await t.store.importPaths([MEDIUM], { onProgress: (p) => seen.push(p) });

    expect(report).toMatchObject({ filesSeen: 32, stored: 31, alreadyStored: 0, dicomdirs: 1, skippedNotDicom: 0, failed: 0 });
    const stored = storedSops(t.store);
    expect([...stored.keys()].sort()).toEqual(expected.map((r) => r.sopInstanceUID).sort());
    for (const { sopClassUID } of stored.values()) expect(sopClassUID).not.toBe(MEDIA_STORAGE_DIRECTORY_STORAGE);
    // Stored unchanged, and each is the file its record names.
    for (const { components, sopInstanceUID } of expected) {
      expect(readFileSync(stored.get(sopInstanceUID)!.path).equals(readFileSync(join(MEDIUM, ...components)))).toBe(true);
    }
    // TINY_ALPHA (another File-set in a subfolder, not referenced) is not walked into.
    expect(t.store.statistics().CountInstances).toBe(31);
    const inside = seen.filter((p) => p.container);
    expect(inside.length).toBeGreaterThan(0);
    for (const p of inside) expect(p.container).toMatchObject({ kind: 'dicomdir', path: join(MEDIUM, 'DICOMDIR'), total: 31 });
  });

  test('a DICOMDIR given as a path stands for its medium; a folder holding several media imports each by its own DICOMDIR', async () => {
    const alone = await t.store.importPaths([join(TINY_ALPHA, 'DICOMDIR')]);
    expect(alone).toMatchObject({ stored: 50, dicomdirs: 1, failed: 0 });

    const parent = join(t.dir, 'two-discs');
    cpSync(TINY_ALPHA, join(parent, 'disc1'), { recursive: true });
    cpSync(copyMedium(), join(parent, 'disc2'), { recursive: true });
    writeFileSync(join(parent, 'notes.txt'), 'two discs\n');
    const both = await t.store.importPaths([parent]);
    expect(both).toMatchObject({ stored: 31, alreadyStored: 50, dicomdirs: 2, skippedNotDicom: 1, failed: 0 });
    expect(t.store.statistics().CountInstances).toBe(81);
  });

  test('a referenced file missing from the medium is reported as failed, the others are imported', async () => {
    const copy = copyMedium();
    rmSync(join(copy, '98892003', 'MR700', '4648'));
    const report = await t.store.importPaths([copy]);
    expect(report).toMatchObject({ stored: 30, failed: 1, dicomdirs: 1 });
    expect(report.failures).toEqual([
      { path: join(copy, '98892003', 'MR700', '4648'), message: `DICOMDIR references ${['98892003', 'MR700', '4648'].join(sep)}, not found on the medium` },
    ]);
  });

  test('names are matched case-insensitively: a copy whose files were lower-cased, and a CD whose upper-cased names carry ISO 9660 ";1" versions while the DICOMDIR says lower case', async () => {
    const lower = copyMedium();
    renameTree(lower, (name) => name.toLowerCase());
    expect(existsSync(join(lower, 'dicomdir'))).toBe(true);
    const first = await t.store.importPaths([lower]);
    expect(first).toMatchObject({ stored: 31, dicomdirs: 1, failed: 0 });

    const other = tempStore('store-dicomdir-cd-');
    try {
      const cd = join(other.dir, 'cd');
      cpSync(copyMedium(), cd, { recursive: true });
      python(
        `
import sys, pydicom
d = pydicom.dcmread(sys.argv[1])
for r in d.DirectoryRecordSequence:
    if 'ReferencedFileID' in r:
        r.ReferencedFileID = [c.lower() for c in r.ReferencedFileID]
d.save_as(sys.argv[1])`,
        join(cd, 'DICOMDIR'),
      );
      // Files get a version suffix (folders do not, as ISO 9660 writes them).
      const suffixFiles = (folder: string) => {
        for (const name of readdirSync(folder)) {
          const path = join(folder, name);
          if (statSync(path).isDirectory()) suffixFiles(path);
          else if (name !== 'DICOMDIR') renameSync(path, `${path};1`);
        }
      };
      suffixFiles(cd);
      expect(existsSync(join(cd, '77654033', 'CR1', '6154;1'))).toBe(true);
      const report = await other.store.importPaths([cd]);
      expect(report).toMatchObject({ stored: 31, dicomdirs: 1, failed: 0 });
    } finally {
      other.cleanup();
    }
  });

  test('an unreadable DICOMDIR is a failure and its folder is then imported file by file; a file ID climbing out of the medium is refused', async () => {
    const broken = copyMedium();
    writeFileSync(join(broken, 'DICOMDIR'), readFileSync(join(MEDIUM, 'DICOMDIR')).subarray(0, 700));
    const report = await t.store.importPaths([broken]);
    expect(report).toMatchObject({ stored: 31, failed: 1, dicomdirs: 0 });
    expect(report.failures[0]!.path).toBe(join(broken, 'DICOMDIR'));
    expect(report.failures[0]!.message).toMatch(/^cannot read the DICOMDIR .*truncated at offset 700.*imported file by file$/);

    const climbing = join(t.dir, 'climbing');
    cpSync(copyMedium(), climbing, { recursive: true });
    python(
      `
import sys, pydicom
d = pydicom.dcmread(sys.argv[1])
r = [r for r in d.DirectoryRecordSequence if 'ReferencedFileID' in r][0]
r.ReferencedFileID = ['..', 'CDROM', '77654033', 'CR1', '6154']
d.save_as(sys.argv[1])`,
      join(climbing, 'DICOMDIR'),
    );
    const other = tempStore('store-dicomdir-climb-');
    try {
      const refused = await other.store.importPaths([climbing]);
      expect(refused).toMatchObject({ stored: 30, failed: 1 });
      expect(refused.failures[0]!.message).toMatch(/DICOMDIR references \.\..*component '\.\.' is not a file or folder name/);
    } finally {
      other.cleanup();
    }
  });
});
