/**
 * The decode pool (main/pixels/decodePool.ts): compressed frames are decoded
 * on worker threads, give the same pixels as decoding in the calling thread,
 * and neither idle workers nor a closed pool keep a process alive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeFrame, decodeFrameInThread } from '../../../main/pixels/decodeFrame.js';
import { closeDecodePool, runDecode } from '../../../main/pixels/decodePool.js';
import { storedFrames } from '../../support/pixelFiles.js';
import { havePydicomSamples, sample } from '../../support/samples.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'decode-pool-'));
afterAll(async () => {
  await closeDecodePool();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!havePydicomSamples)('the decode pool', () => {
  test('a compressed frame is decoded on another thread, with the same pixels as in this thread', async () => {
    const { info, frames } = await storedFrames(sample('MR_small_jp2klossless.dcm'));
    const result = await runDecode(frames[0]!, info);
    expect(result.ok).toBe(true);
    expect(result.threadId).not.toBe(threadId);
    const pooled = await decodeFrame(frames[0]!, info);
    const local = await decodeFrameInThread(frames[0]!, info);
    expect(pooled.bytes.equals(local.bytes)).toBe(true);
    expect(pooled.photometricInterpretation).toBe(local.photometricInterpretation);
    // The caller's compressed bytes stay usable (they are copied to the worker, not moved).
    expect(frames[0]!.length).toBeGreaterThan(0);
    expect(frames[0]![0]).toBe(0xff);
  });

  test('many frames of several syntaxes decoded at once all come back right', async () => {
    const files = ['MR_small_RLE.dcm', 'SC_rgb_jpeg_dcmtk.dcm', 'JPEG-lossy.dcm', 'SC_rgb_jpeg_gdcm.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'GDCMJ2K_TextGBR.dcm', 'SC_rgb_rle_2frame.dcm'];
    const jobs = [];
    for (const file of files) {
      const { info, frames } = await storedFrames(sample(file));
      for (const frame of frames) {
        jobs.push(
          (async () => {
            const [pooled, local] = await Promise.all([decodeFrame(frame, info), decodeFrameInThread(frame, info)]);
            return { file, same: pooled.bytes.equals(local.bytes) };
          })(),
        );
      }
    }
    const results = await Promise.all(jobs);
    expect(results.filter((r) => !r.same)).toEqual([]);
  });

  test('closeDecodePool ends the workers and a later decode starts them again', async () => {
    const { info, frames } = await storedFrames(sample('MR_small_jpeg_ls_lossless.dcm'));
    await decodeFrame(frames[0]!, info);
    await closeDecodePool();
    const again = await decodeFrame(frames[0]!, info);
    expect(again.bytes.length).toBe(64 * 64 * 2);
  });

  /** Runs a script in a child Node (sources through tsx) and resolves with its exit code and output once it exits. */
  function runChild(body: string): Promise<{ code: number | null; out: string }> {
    const script = join(dir, `child${Math.random().toString(36).slice(2)}.mts`);
    const url = (path: string) => JSON.stringify(new URL(`file://${join(ROOT, path)}`).href);
    writeFileSync(
      script,
      `import { decodeFrame } from ${url('main/pixels/decodeFrame.ts')};
import { closeDecodePool } from ${url('main/pixels/decodePool.ts')};
import { storedFrames } from ${url('test/support/pixelFiles.ts')};
const { info, frames } = await storedFrames(${JSON.stringify(sample('MR_small_jp2klossless.dcm'))});
const frame = await decodeFrame(frames[0]!, info);
process.stdout.write('decoded ' + frame.bytes.length + '\\n');
${body}
`,
    );
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', fail);
      child.on('exit', (code) => done({ code, out }));
    });
  }

  test('a process that decoded through the pool exits by itself once idle (workers are unref\'d)', async () => {
    const { code, out } = await runChild('');
    expect(out).toContain('decoded 8192');
    expect(code).toBe(0);
  }, 60_000);

  test('a process that closes the pool exits', async () => {
    const { code, out } = await runChild("await closeDecodePool();\nprocess.stdout.write('closed\\n');");
    expect(out).toContain('decoded 8192\nclosed');
    expect(code).toBe(0);
  }, 60_000);
});
