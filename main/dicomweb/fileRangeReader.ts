/**
 * Reads file ranges into shared memory on a worker thread, for the WADO-RS
 * retrieve answers (storedFileParts.ts): the stored files are read with plain
 * blocking calls, off the event loop, several blocks of memory per message.
 *
 * Why a thread of our own rather than fs's asynchronous calls: each of those
 * is a round trip through libuv's thread pool (open, read, close: three per
 * file), and on a two-core machine the hand-offs cost more than the reads:
 * a retrieve of 1,000 files of 9 KB took ~45 ms of server CPU that way,
 * ~22 ms with this thread (and 250 ms with one createReadStream per file).
 * The worker runs an inline script (no separate file to locate, the same
 * under tsc output, vitest and Electron), is started on first use, is shared
 * by every answer of the process and does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';

/** One range to read: the file, where it goes in the batch's memory, and where it is in the file. */
export interface FileRange {
  path: string;
  /** Offset in the shared memory. */
  at: number;
  length: number;
  /** Offset in the file. */
  position: number;
}

/** Why a range could not be read: its index in its block and the system's reason (ENOENT…) or ours. */
export interface RangeFailure {
  index: number;
  reason: string;
}

/**
 * Ranges to read into one block of memory: shared memory (reused by the caller, who
 * keeps a view on it), or an ArrayBuffer that is moved to the reader thread and
 * back (the caller's is detached; the block's bytes come back in `done`), for
 * bytes that must outlive the block without a copy.
 */
export interface RangeBlock {
  memory: SharedArrayBuffer | ArrayBuffer;
  ranges: readonly FileRange[];
}

// CommonJS, as eval workers run. One message carries several blocks, each
// answered as soon as it is read; ranges come as flat arrays [path, at, length, position, …].
const WORKER_SCRIPT = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
function readBlock(memory, ranges) {
  const view = new Uint8Array(memory);
  for (let i = 0; i < ranges.length; i += 4) {
    const path = ranges[i], at = ranges[i + 1], length = ranges[i + 2], position = ranges[i + 3];
    let fd = -1;
    try {
      fd = fs.openSync(path, 'r');
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, view, at + done, length - done, position + done);
        if (n === 0) throw new Error('it ends at byte ' + (position + done));
        done += n;
      }
    } catch (err) {
      return { index: i / 4, reason: err.code || err.message };
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  return undefined;
}
parentPort.on('message', ({ id, blocks }) => {
  for (let k = 0; k < blocks.length; k++) {
    const memory = blocks[k].memory;
    const failure = readBlock(memory, blocks[k].ranges);
    if (memory instanceof SharedArrayBuffer) parentPort.postMessage({ id, block: k, failure });
    else parentPort.postMessage({ id, block: k, failure, memory }, [memory]);
  }
});
`;

/**
 * Called once per block of a batch, in order: null when all its ranges were read.
 * `moved` is the block's ArrayBuffer back from the reader thread (undefined for shared memory).
 */
type BlockDone = (block: number, failure: RangeFailure | null, moved?: ArrayBuffer) => void;

interface ReaderThread {
  worker: Worker;
  /** Batches sent and not fully answered, by message id. */
  pending: Map<number, { done: BlockDone; left: number }>;
}

let reader: ReaderThread | null = null;
let nextId = 0;

function startReader(): ReaderThread {
  const worker = new Worker(WORKER_SCRIPT, { eval: true, name: 'file-range-reader' });
  const thread: ReaderThread = { worker, pending: new Map() };
  worker.on('message', ({ id, block, failure, memory }: { id: number; block: number; failure?: RangeFailure; memory?: ArrayBuffer }) => {
    const batch = thread.pending.get(id);
    if (!batch) return;
    if (--batch.left === 0) thread.pending.delete(id);
    batch.done(block, failure ?? null, memory);
  });
  // A dead thread fails its own batches only; the next batch starts a new thread.
  const fail = (reason: string) => {
    if (reader === thread) reader = null;
    const waiting = [...thread.pending.values()];
    thread.pending.clear();
    for (const batch of waiting) batch.done(-1, { index: -1, reason });
  };
  worker.on('error', (err) => fail(`the file reader thread failed: ${err.message}`));
  worker.on('exit', (code) => fail(`the file reader thread exited with code ${code}`));
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();
  return thread;
}

/**
 * Reads the ranges of each block into its memory, block
 * after block; calls `done(k, null)` when block k is read, or `done(k, failure)`
 * at the first range of block k that cannot be (missing file, file shorter
 * than the range…). If the thread dies, `done(-1, failure)` once for the
 * whole batch. One message per batch: hand-offs between threads cost more
 * than reading a megabyte.
 */
export function readFileRanges(blocks: readonly RangeBlock[], done: BlockDone): void {
  reader ??= startReader();
  const id = nextId++;
  reader.pending.set(id, { done, left: blocks.length });
  const moved: ArrayBuffer[] = [];
  reader.worker.postMessage(
    {
      id,
      blocks: blocks.map(({ memory, ranges }) => {
        const flat: Array<string | number> = [];
        for (const r of ranges) flat.push(r.path, r.at, r.length, r.position);
        if (!(memory instanceof SharedArrayBuffer)) moved.push(memory);
        return { memory, ranges: flat };
      }),
    },
    moved,
  );
}
