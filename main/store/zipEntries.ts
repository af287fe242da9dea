/**
 * The entries of a ZIP archive (PKWARE APPNOTE 6.3) as import items, read one
 * at a time as streams with yauzl (lazyEntries: the archive is never buffered
 * whole; only a DICOM entry's own bytes are, since ingest takes buffers).
 *
 * - Directory entries are ignored; an entry's path in reports is
 *   `archive.zip!folder/name` (messages do not repeat it). Entry names are labels only, never used as
 *   paths on disk, so '../' or absolute names cannot write anywhere
 *   (zip-slip). yauzl's name check is therefore not used (decodeStrings is
 *   off, names are decoded with its getFileNameLowLevel): it would stop the
 *   whole archive at the first such name.
 * - Zip bombs: an entry whose central-directory size is over the limit is
 *   refused before it is read; yauzl checks that the inflated stream gives
 *   exactly the declared size (validateEntrySizes), so a lying header cannot
 *   make it read more; entries whose data overlap another's (the overlapping
 *   bomb) are refused; the CRC-32 of a DICOM entry is checked; a non-DICOM
 *   entry is dropped after its first 132 bytes.
 * - Encrypted entries and compression methods other than stored (0) and
 *   deflated (8) are failures with the reason; the other entries go on. A
 *   damaged central directory fails the rest of the archive, with how far it got.
 * - A ZIP inside the ZIP is a failure ("extract it first"), not recursed into.
 *
 * yauzl 3.4's openReadStreamLowLevelPromise calls openReadStream with the
 * low-level arguments (a bug), so the callback form is wrapped here.
 */
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import type { ImportItem } from './importItems.js';
import { SNIFF_BYTES, isDicomdirName, sniff } from './sniffDicom.js';

export interface ZipLimits {
  /** Largest uncompressed entry read (bytes). */
  maxEntryBytes: number;
}

/** As large as a file on disk may be for fs.readFile (2 GiB - 1, Node's kIoMaxLength). */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 2 ** 31 - 1 };

const STORED = 0;
const DEFLATED = 8;
/** APPNOTE 4.4.5, for messages. */
const METHOD_NAMES: Record<number, string> = { 1: 'shrunk', 6: 'imploded', 9: 'deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'Zstandard', 95: 'xz', 98: 'PPMd', 99: 'AES-encrypted' };

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The next entry, or undefined at the end; rejects with the archive's error. */
function nextEntry(zip: ZipFile, state: { error?: Error }): Promise<Entry | undefined> {
  return new Promise((resolve, reject) => {
    if (state.error) return reject(state.error);
    const settle = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: Entry) => (settle(), resolve(entry));
    const onEnd = () => (settle(), resolve(undefined));
    const onError = (err: Error) => (settle(), reject(err));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openEntryData(zip: ZipFile, entry: Entry, fileDataStart: number): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStreamLowLevel(
      fileDataStart,
      entry.compressedSize,
      0,
      entry.compressedSize,
      entry.compressionMethod === DEFLATED,
      entry.uncompressedSize,
      (err, stream) => (err ? reject(err) : resolve(stream)),
    );
  });
}

/** Byte ranges of the entries' local headers and data seen so far, to refuse overlapping entries. */
class Spans {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Adds [start, end) unless it overlaps a range already added; returns whether it was added. */
  add(start: number, end: number): boolean {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && this.ends[lo - 1]! > start) return false;
    if (lo < this.starts.length && this.starts[lo]! < end) return false;
    this.starts.splice(lo, 0, start);
    this.ends.splice(lo, 0, end);
    return true;
  }
}

/** zlib.crc32 is in Node >= 20.15 and 22.2; on an older Node the check is skipped (yauzl's size check stays). */
const crc32: ((data: Buffer) => number) | undefined = typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : undefined;

/** Reads one file entry: DICOM bytes, a skip, or a failure. */
async function entryItem(zip: ZipFile, entry: Entry, path: string, spans: Spans, limits: ZipLimits): Promise<ImportItem> {
  const failed = (why: string): ImportItem => ({ path, kind: 'failed', message: why });
  if (entry.isEncrypted()) return failed('encrypted entry (password-protected ZIP): not supported, decrypt the archive first');
  const method = entry.compressionMethod;
  if (method !== STORED && method !== DEFLATED) {
    return failed(`compression method ${method}${METHOD_NAMES[method] ? ` (${METHOD_NAMES[method]})` : ''} is not supported: only stored (0) and deflated (8)`);
  }
  const size = entry.uncompressedSize;
  if (size > limits.maxEntryBytes) return failed(`the entry declares ${size} bytes uncompressed, more than the ${limits.maxEntryBytes} an entry may have`);

  let stream: Readable;
  try {
    const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
    if (!spans.add(entry.relativeOffsetOfLocalHeader, fileDataStart + entry.compressedSize)) {
      return failed('its data overlap another entry of the archive (a zip bomb trait): not read');
    }
    stream = await openEntryData(zip, entry, fileDataStart);
  } catch (err) {
    return failed(`cannot read the entry: ${message(err)}`);
  }

  let bytes: Buffer | undefined;
  let part10 = false;
  const early: Buffer[] = [];
  let got = 0;
  /** Decides from the first bytes; undefined: keep reading into `bytes`. */
  const decide = (head: Buffer): ImportItem | undefined => {
    const kind = sniff(head);
    if (kind === 'zip') return failed('a ZIP archive inside the archive: not imported, extract it first');
    if (kind === 'not-dicom') return { path, kind: 'not-dicom' };
    part10 = kind === 'part10';
    bytes = Buffer.allocUnsafe(size);
    head.copy(bytes, 0);
    return undefined;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (got + chunk.length > size) return failed(`more data than the ${size} bytes declared`);
      if (bytes) chunk.copy(bytes, got);
      else early.push(chunk);
      got += chunk.length;
      if (!bytes && (got >= SNIFF_BYTES || got === size)) {
        const decided = decide(Buffer.concat(early));
        if (decided) return decided; // leaving the loop destroys the stream: the rest is not inflated
      }
    }
  } catch (err) {
    return failed(`cannot read the entry: ${message(err)}`);
  } finally {
    stream.destroy();
  }
  if (!bytes) {
    // Empty entry, or the stream ended early (yauzl reports a short stream as an error, so this is size 0).
    const decided = decide(Buffer.concat(early));
    if (decided) return decided;
  }
  if (got !== size) return failed(`truncated: ${got} of the ${size} bytes declared`);
  const data = bytes!.subarray(0, got);
  if (crc32 && crc32(data) >>> 0 !== entry.crc32 >>> 0) return failed('CRC-32 mismatch: the entry is damaged');
  return { path, kind: 'dicom', bytes: data, part10 };
}

/** Every entry of the archive as an import item, in central-directory order. */
export async function* zipItems(archive: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): AsyncGenerator<ImportItem> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(archive, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    yield { path: archive, kind: 'failed', message: `not a readable ZIP archive: ${message(err)}` };
    return;
  }
  // An error between two reads (closing the file) is kept for the next read instead of being thrown as an unhandled 'error' event.
  const state: { error?: Error } = {};
  zip.on('error', (err: Error) => (state.error ??= err));
  const total = zip.entryCount;
  const spans = new Spans();
  let done = 0;
  try {
    for (;;) {
      let entry: Entry | undefined;
      try {
        entry = await nextEntry(zip, state);
      } catch (err) {
        yield { path: archive, kind: 'failed', message: `the archive is damaged after ${done} of ${total} entries: ${message(err)}` };
        return;
      }
      if (!entry) return;
      done++;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      if (name.endsWith('/')) continue; // a directory entry
      const path = `${archive}!${name}`;
      const container = { kind: 'zip' as const, path: archive, done, total };
      const last = name.slice(name.lastIndexOf('/') + 1);
      if (isDicomdirName(last)) yield { path, kind: 'dicomdir', container };
      else yield { ...(await entryItem(zip, entry, path, spans, limits)), container };
    }
  } finally {
    zip.close();
  }
}
