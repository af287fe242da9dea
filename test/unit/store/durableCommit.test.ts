/**
 * DurableCommits on a real SQLite file in WAL mode: the transaction commits,
 * SQLite's own sync setting is back to FULL afterwards (also when the work
 * throws, which rolls back), the WAL is what gets fsynced (its descriptor
 * follows the file), and without a WAL file the commit falls back to FULL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { DurableCommits } from '../../../main/store/durableCommit.js';
import { openIndex } from '../../../main/store/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function index() {
  const dir = mkdtempSync(join(tmpdir(), 'durable-commit-'));
  dirs.push(dir);
  const path = join(dir, 'index.sqlite');
  const db = openIndex(path);
  db.exec('CREATE TABLE t (v INTEGER)');
  return { db, path };
}

const FULL = 2;
const synchronous = (db: ReturnType<typeof openIndex>) => db.pragma('synchronous', { simple: true });

describe('DurableCommits', () => {
  test('commits the work, then leaves synchronous at FULL', async () => {
    const { db, path } = index();
    const commits = new DurableCommits(db, `${path}-wal`);
    await commits.commit(() => {
      db.prepare('INSERT INTO t VALUES (?)').run(1);
      db.prepare('INSERT INTO t VALUES (?)').run(2);
    });
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    expect(synchronous(db)).toBe(FULL);
    // Another connection sees the commit (it is in the WAL, not only in this connection).
    const other = openIndex(path);
    expect(other.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    other.close();
    commits.release();
    db.close();
  });

  test('a throw inside the work rolls it back and still restores FULL', async () => {
    const { db, path } = index();
    const commits = new DurableCommits(db, `${path}-wal`);
    await expect(
      commits.commit(() => {
        db.prepare('INSERT INTO t VALUES (?)').run(1);
        throw new Error('half-way');
      }),
    ).rejects.toThrow('half-way');
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    expect(synchronous(db)).toBe(FULL);
    commits.release();
    db.close();
  });

  test('without a WAL file at the path, commits are made with SQLite’s own FULL sync', async () => {
    const { db } = index();
    const commits = new DurableCommits(db, join(tmpdir(), 'no-such-dir', 'index.sqlite-wal'));
    const seen: unknown[] = [];
    await commits.commit(() => {
      seen.push(synchronous(db)); // inside the transaction: not lowered
      db.prepare('INSERT INTO t VALUES (?)').run(3);
    });
    expect(seen).toEqual([FULL]);
    expect(db.prepare('SELECT v FROM t').all()).toEqual([{ v: 3 }]);
    db.close();
  });

  test('with the WAL there, SQLite does not sync the commit itself (the WAL is fsynced apart)', async () => {
    const { db, path } = index();
    const commits = new DurableCommits(db, `${path}-wal`);
    const seen: unknown[] = [];
    await commits.commit(() => {
      seen.push(synchronous(db));
      db.prepare('INSERT INTO t VALUES (?)').run(4);
    });
    expect(seen).toEqual([1]); // NORMAL for this transaction only
    expect(synchronous(db)).toBe(FULL);
    commits.release();
    db.close();
  });
});
