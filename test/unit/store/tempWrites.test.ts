import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { StorageArea } from '../../../main/store/files.js';

const dir = mkdtempSync(join(tmpdir(), 'store-temp-writes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes 0..n-1 (mod 251), so that a piece written twice or skipped shows. */
function pattern(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + seed) % 251;
  return out;
}

test.each([
  ['one small buffer', [9000]],
  ['more pieces than IOV_MAX (1024)', Array.from({ length: 3000 }, (_, i) => 1 + (i % 5))],
  ['a large file in pieces', [300 * 1024, 5, 70 * 1024]],
  ['an empty file', [0]],
])('writeTemp stores %s byte for byte, then moves into place', async (_name, sizes) => {
  const storage = new StorageArea(join(dir, `s${Math.random().toString(16).slice(2)}`));
  const pieces = sizes.map((n, k) => pattern(n, k));
  const uuid = storage.newUuid('abcd');
  await storage.writeTemp(pieces, uuid);
  await storage.moveIntoPlace(uuid);
  await storage.syncFolders([uuid]);
  expect(readFileSync(storage.pathOf(uuid)).equals(Buffer.concat(pieces))).toBe(true);
  expect(readdirSync(storage.tempDirectory)).toEqual([]);
});

test('writeTemp does not overwrite an existing temp file, and leaves it as it was', async () => {
  const storage = new StorageArea(join(dir, 'exists'));
  const uuid = storage.newUuid();
  const path = join(storage.tempDirectory, `${uuid}.part`);
  writeFileSync(path, 'before');
  await expect(storage.writeTemp(pattern(100, 1), uuid)).rejects.toMatchObject({ code: 'EEXIST' });
  expect(readFileSync(path, 'utf8')).toBe('before');
});
