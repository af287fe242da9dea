/**
 * BufferPool (main/pixels/bufferPool.ts): buffers given back are lent again
 * (the smallest that fits), foreign or detached buffers are not kept, and no
 * more than the byte limit is kept.
 */
import { describe, expect, test } from 'vitest';
import { BufferPool } from '../../../main/pixels/bufferPool.js';

describe('BufferPool', () => {
  test('lends a buffer of the length asked, and the same memory again once given back', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(1000);
    expect(a.length).toBe(1000);
    expect(a.byteOffset).toBe(0);
    const b = pool.take(1000);
    expect(b.buffer).not.toBe(a.buffer); // a is still lent
    pool.give(a);
    const c = pool.take(600);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(600);
  });

  test('lends the smallest kept buffer that fits, and a new one when none does', () => {
    const pool = new BufferPool(1 << 20);
    const [small, large] = [pool.take(100), pool.take(5000)];
    pool.give(large);
    pool.give(small);
    expect(pool.take(80).buffer).toBe(small.buffer);
    expect(pool.take(6000).buffer).not.toBe(large.buffer);
    expect(pool.take(4000).buffer).toBe(large.buffer);
  });

  test('keeps only buffers it lent, once each, not detached ones, and at most its byte limit', () => {
    const pool = new BufferPool(3000);
    const foreign = Buffer.allocUnsafeSlow(100);
    pool.give(foreign);
    expect(pool.take(100).buffer).not.toBe(foreign.buffer);

    const a = pool.take(2000);
    pool.give(a);
    pool.give(a); // twice: kept once
    expect(pool.take(2000).buffer).toBe(a.buffer);
    expect(pool.take(2000).buffer).not.toBe(a.buffer);

    const moved = pool.take(500);
    structuredClone(moved.buffer, { transfer: [moved.buffer as ArrayBuffer] }); // detaches it, as a transfer to another thread does
    pool.give(moved);
    expect(pool.take(1).buffer.byteLength).toBe(1);

    const [b, c] = [pool.take(2000), pool.take(2000)];
    pool.give(b);
    pool.give(c); // over the 3000-byte limit: dropped
    expect(pool.take(2000).buffer).toBe(b.buffer);
    expect(pool.take(2000).buffer).not.toBe(c.buffer);
  });
});
