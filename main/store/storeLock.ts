/**
 * One process at a time per store. Opening a store runs recovery (recovery.ts),
 * which removes temp files and journal entries an interrupted ingest left: in
 * a second process sharing the store (the desktop app and `npm run server` on
 * the same folder), that would delete the first one's instances while they are
 * being written. So opening takes a lock file next to the index, holding the
 * owner's PID and host; a lock whose process is gone (crash, kill -9) is stale
 * and taken over. Node has no portable advisory file lock (flock/LockFileEx),
 * hence a file created exclusively (O_EXCL) and a liveness check of its PID.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';

export const LOCK_FILE_NAME = 'index.lock';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** Which opening of the store holds it (a process may reopen a store). */
  token: string;
}

export interface StoreLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string'
      ? { pid: owner.pid, host: owner.host, since: String(owner.since ?? ''), token: String(owner.token ?? '') }
      : undefined;
  } catch {
    return undefined; // unreadable or half-written: treated as stale
  }
}

/**
 * Takes the store's lock in `indexDirectory`, or throws 'store-in-use' naming
 * the process that holds it. The same process may take it again (a store
 * reopened without close, as crash tests do).
 */
export function lockStore(indexDirectory: string): StoreLock {
  const path = join(indexDirectory, LOCK_FILE_NAME);
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw lockFailure(path, err);
      const owner = readOwner(path);
      if (owner && owner.pid !== process.pid) {
        if (owner.host !== me.host) {
          throw new AppError(
            'store-in-use',
            `the store in ${indexDirectory} is locked by process ${owner.pid} on host '${owner.host}' (since ${owner.since}); if that process no longer runs, delete ${path}`,
            { path, pid: owner.pid, host: owner.host },
          );
        }
        if (alive(owner.pid)) {
          throw new AppError(
            'store-in-use',
            `the store in ${indexDirectory} is in use by another process (PID ${owner.pid}, since ${owner.since}): one process at a time may open a store; close it first, or use another StorageDirectory`,
            { path, pid: owner.pid, host: owner.host },
          );
        }
      }
      try {
        unlinkSync(path); // stale (its process is gone) or our own: take it over
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw lockFailure(path, e);
      }
    }
  }
  return {
    path,
    release() {
      if (readOwner(path)?.token !== me.token) return;
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function lockFailure(path: string, err: unknown): AppError {
  return new AppError('store-in-use', `cannot take the store's lock file ${path}: ${(err as Error).message}`, { path });
}
