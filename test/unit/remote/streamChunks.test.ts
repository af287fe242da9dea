/**
 * streamChunks (main/remote/streamChunks.ts): a Readable's chunks one by one as
 * pushed (never joined, unlike for await … of stream), with backpressure, the
 * stream's end, errors and premature close, and the stream destroyed when the
 * consumer leaves early.
 */
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { streamChunks } from '../../../main/remote/streamChunks.js';

const chunk = (n: number, size = 1000) => Buffer.alloc(size, n);

describe('streamChunks', () => {
  test('chunks buffered before the read come one by one, the same buffers, where the stream iterator joins them', async () => {
    const pushed = [chunk(1), chunk(2), chunk(3)];
    const joined = new PassThrough();
    for (const c of pushed) joined.write(c);
    joined.end();
    const viaIterator: Buffer[] = [];
    for await (const c of joined) viaIterator.push(c as Buffer);
    expect(viaIterator).toHaveLength(1); // what streamChunks avoids: one new buffer of all three

    const source = new PassThrough();
    for (const c of pushed) source.write(c);
    source.end();
    const got: Buffer[] = [];
    for await (const c of streamChunks(source)) got.push(c);
    expect(got).toHaveLength(3);
    expect(got.map((c) => c[0])).toEqual([1, 2, 3]);
    expect(Buffer.concat(got).equals(Buffer.concat(pushed))).toBe(true);
  });

  test('a consumer slower than the source pauses it (no unbounded queue), and gets everything in order', async () => {
    let produced = 0;
    let mostAhead = 0;
    let consumed = 0;
    const source = new Readable({
      highWaterMark: 1,
      read() {
        if (produced === 200) this.push(null);
        else this.push(chunk(produced++ % 256, 100));
        mostAhead = Math.max(mostAhead, produced - consumed);
      },
    });
    const seen: number[] = [];
    for await (const c of streamChunks(source, 8)) {
      seen.push(c[0]!);
      consumed++;
      await tick();
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, k) => k % 256));
    expect(mostAhead).toBeLessThan(30);
  });

  test('an error after some chunks: those chunks first, then the error', async () => {
    const source = new PassThrough();
    source.write(chunk(1));
    source.write(chunk(2));
    setTimeout(() => source.destroy(new Error('connection reset')), 10);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const c of streamChunks(source)) got.push(c[0]!);
      })(),
    ).rejects.toThrow('connection reset');
    expect(got).toEqual([1, 2]);
  });

  test('a stream destroyed without an error before its end is a premature close', async () => {
    const source = new PassThrough();
    source.write(chunk(7));
    setTimeout(() => source.destroy(), 10);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const c of streamChunks(source)) got.push(c[0]!);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(got).toEqual([7]);
  });

  test('leaving the loop early destroys the stream', async () => {
    const source = new PassThrough();
    source.write(chunk(1));
    source.write(chunk(2));
    for await (const c of streamChunks(source)) {
      expect(c[0]).toBe(1);
      break;
    }
    expect(source.destroyed).toBe(true);
  });
});
