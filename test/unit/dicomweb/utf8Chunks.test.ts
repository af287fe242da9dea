/**
 * JSON array answers written into reused byte chunks (main/dicomweb/utf8Chunks.ts):
 * whatever the items' sizes and characters, the chunks joined are the array's
 * UTF-8 text, and no chunk but one holding a single oversized item is longer
 * than CHUNK_BYTES.
 */
import { describe, expect, test } from 'vitest';
import { CHUNK_BYTES, jsonArrayChunks } from '../../../main/dicomweb/utf8Chunks.js';

function run(items: string[]): Buffer[] {
  return [...jsonArrayChunks(items, (item, out) => out.put(JSON.stringify(item)))].map((c) => Buffer.from(c.bytes)); // copied: chunks are reused
}

describe('jsonArrayChunks', () => {
  test('no item is []', () => {
    expect(Buffer.concat(run([])).toString('utf8')).toBe('[]');
  });

  test('many items of multi-byte text cut into chunks that join to the exact UTF-8 text', () => {
    const items = Array.from({ length: 6000 }, (_, k) => `山田^太郎=やまだ^たろう ${k} Müller 😀 `.repeat(1 + (k % 7)));
    const chunks = run(items);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(Buffer.concat(chunks).equals(Buffer.from(JSON.stringify(items), 'utf8'))).toBe(true);
  });

  test('an item larger than a chunk goes whole, between the others', () => {
    const items = ['before', 'é'.repeat(CHUNK_BYTES), 'after'];
    const chunks = run(items);
    expect(chunks.some((c) => c.length > CHUNK_BYTES)).toBe(true);
    expect(JSON.parse(Buffer.concat(chunks).toString('utf8'))).toEqual(items);
  });
});
