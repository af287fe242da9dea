/**
 * Index commits made durable without blocking the event loop. The index runs
 * in WAL mode with synchronous=FULL: every commit fsyncs the WAL inside
 * better-sqlite3's synchronous call, on the main thread, which then reads no
 * socket (profiles of STOW-RS and remote retrieve: ~0.1 ms of the event loop
 * per instance). For the ingest's commits (journal and index, once per batch)
 * SQLite is told not to sync (synchronous=NORMAL for that one transaction) and
 * the WAL file is fsynced here on the thread pool before the caller goes on:
 * the same guarantee (the commit is on disk before any rename it protects and
 * before any answer), without the wait on the main thread. An fsync through
 * another descriptor flushes the same file (POSIX fsync applies to the file).
 *
 * The WAL's descriptor is checked against the path's inode before each sync
 * (SQLite may recreate the file); when the WAL cannot be opened, commits fall
 * back to SQLite's own FULL sync.
 */
import { close, fsync, fstatSync, openSync, statSync } from 'node:fs';
import type { Db } from './schema.js';

export class DurableCommits {
  private fd: number | undefined;
  private ino: number | undefined;
  /** Syncs on the thread pool; replaced descriptors are closed only once none is in flight. */
  private inflight = 0;
  private retired: number[] = [];

  constructor(
    private readonly db: Db,
    private readonly walPath: string,
  ) {}

  /** Runs `work` as one transaction and resolves once its commit is on disk. */
  async commit(work: () => void): Promise<void> {
    const fd = this.walDescriptor();
    if (fd === undefined) {
      this.db.transaction(work)(); // synchronous=FULL: SQLite syncs
      return;
    }
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(work)();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    this.inflight++;
    try {
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      if (--this.inflight === 0) this.closeRetired();
    }
  }

  /** The WAL's descriptor, reopened if the file at walPath is not the one open; undefined if it cannot be opened. */
  private walDescriptor(): number | undefined {
    try {
      const current = statSync(this.walPath).ino;
      if (this.fd !== undefined && this.ino === current) return this.fd;
      this.release();
      // r+: Windows' FlushFileBuffers needs write access; nothing is written through it.
      this.fd = openSync(this.walPath, 'r+');
      this.ino = fstatSync(this.fd).ino;
      return this.ino === current ? this.fd : undefined;
    } catch {
      this.release();
      return undefined;
    }
  }

  /** Lets go of the descriptor (closed once no sync uses it). */
  release(): void {
    if (this.fd !== undefined) this.retired.push(this.fd);
    this.fd = undefined;
    this.ino = undefined;
    if (this.inflight === 0) this.closeRetired();
  }

  private closeRetired(): void {
    for (const fd of this.retired.splice(0)) close(fd, () => undefined);
  }
}
