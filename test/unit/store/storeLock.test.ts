/**
 * One process at a time per store: a second process gets a clear
 * 'store-in-use' error naming the holder, and nothing of the first one's store
 * is touched; a lock left by a killed process is taken over. Real child
 * processes on a real store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { openStore } from '../../../main/store/openStore.js';
import { LOCK_FILE_NAME } from '../../../main/store/storeLock.js';

const CHILD = fileURLToPath(new URL('./fixtures/holdStore.ts', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function storageDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-lock-'));
  dirs.push(dir);
  return join(dir, 'storage');
}

async function holdInChild(storage: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storage], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the child exited (${code}): ${err}`)));
  });
  return child;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('store lock', () => {
  it('refuses a second process while the first holds the store, naming its PID', async () => {
    const storage = storageDir();
    const child = await holdInChild(storage);
    let error: unknown;
    try {
      openStore({ storageDirectory: storage }).close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('store-in-use');
    expect((error as AppError).message).toContain(`PID ${child.pid}`);
    // The holder's lock is left as it was.
    expect(JSON.parse(readFileSync(join(storage, LOCK_FILE_NAME), 'utf8')).pid).toBe(child.pid);

    // Closed by its holder: free again.
    child.stdin!.write('close\n');
    await exited(child);
    expect(existsSync(join(storage, LOCK_FILE_NAME))).toBe(false);
    const store = openStore({ storageDirectory: storage });
    store.close();
  });

  it('takes over the lock of a process that was killed', async () => {
    const storage = storageDir();
    const child = await holdInChild(storage);
    child.kill('SIGKILL');
    await exited(child);
    expect(existsSync(join(storage, LOCK_FILE_NAME))).toBe(true); // left behind by the crash
    const store = openStore({ storageDirectory: storage });
    expect(JSON.parse(readFileSync(join(storage, LOCK_FILE_NAME), 'utf8')).pid).toBe(process.pid);
    store.close();
    expect(existsSync(join(storage, LOCK_FILE_NAME))).toBe(false);
  });

  it('takes over an unreadable lock file, and refuses a live holder on another host without guessing', () => {
    const storage = storageDir();
    openStore({ storageDirectory: storage }).close();
    writeFileSync(join(storage, LOCK_FILE_NAME), '{"pid": 12'); // half-written
    openStore({ storageDirectory: storage }).close();

    writeFileSync(join(storage, LOCK_FILE_NAME), JSON.stringify({ pid: 1, host: 'elsewhere.example', since: '2026-01-01T00:00:00Z', token: 'x' }));
    expect(() => openStore({ storageDirectory: storage })).toThrow(/locked by process 1 on host 'elsewhere.example'.*delete/);
  });

  it('lets the same process reopen a store it did not close, and a close releases only its own opening', () => {
    const storage = storageDir();
    const first = openStore({ storageDirectory: storage });
    const second = openStore({ storageDirectory: storage }); // as a crash test does
    first.close(); // not the lock's holder any more
    expect(existsSync(join(storage, LOCK_FILE_NAME))).toBe(true);
    second.close();
    expect(existsSync(join(storage, LOCK_FILE_NAME))).toBe(false);
  });
});
