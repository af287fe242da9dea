/**
 * After engine.close() nothing keeps the process alive (headless server exit,
 * app quit): regression test for the WADO-RS file reader thread whose message
 * port held the event loop open once a retrieve had run.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/exitAfterRetrieve.ts', import.meta.url));

describe('engine exit', () => {
  it('lets the process exit by itself after a retrieve and close', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running 15 s after close');
      }, 15_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    expect(out).toContain('retrieved 200; closed');
    expect(code, out).toBe(0);
  });
});
