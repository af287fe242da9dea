/**
 * readDecodedFrame: frame n (1-based) of a PixelSource, read and decoded
 * (decodeFrame), with the frame and the instance named in any failure. A
 * codec's own exception (corrupt or truncated data) becomes 'bad-dicom' (400):
 * the stored bytes are what is wrong; AppErrors keep their kind
 * ('not-acceptable' for a syntax without a decoder).
 */
import { AppError } from '../errors.js';
import { decodeFrame, decodesInThread } from './decodeFrame.js';
import { decodeStoredInPool } from './decodePool.js';
import type { StoredInstance } from '../store/types.js';
import type { PixelSource } from './pixelSource.js';
import { BufferPool } from './bufferPool.js';
import type { DecodedFrame, FrameAllocator } from './types.js';

/**
 * Compressed frames read on this thread only until they are decoded: their
 * buffers are reused (see bufferPool.ts for why). Up to 16 MB kept.
 */
const compressedReads = new BufferPool(16 * 1024 * 1024);

/** `allocate`: where the decoded frame goes (a native frame is read straight into it); see FrameAllocator. */
export async function readDecodedFrame(source: PixelSource, n: number, what: string, allocate?: FrameAllocator): Promise<DecodedFrame> {
  const compressed = source.layout.encapsulated;
  let lent: Buffer | undefined;
  try {
    const stored = await source.readStoredFrame(n, compressed ? (length) => (lent = compressedReads.take(length)) : allocate);
    try {
      const frame = await decodeFrame(stored, source.info, allocate);
      // A decoder handing back (part of) its input would keep the lent buffer: never seen, kept correct anyway.
      return lent && frame.bytes.buffer === lent.buffer ? { ...frame, bytes: Buffer.from(frame.bytes) } : frame;
    } catch (err) {
      const where = `frame ${n} of ${what} (stored as ${source.info.transferSyntaxUID})`;
      if (err instanceof AppError) throw new AppError(err.kind, `${where}: ${err.message}`, err.details);
      throw new AppError('bad-dicom', `${where} cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    if (lent) compressedReads.give(lent);
  }
}

/**
 * The same for frame n of a stored instance, read from its file on a pixel
 * worker thread (compressed bytes never cross between threads; the decoded
 * frame comes back transferred). `source` is the request's own PixelSource,
 * used for syntaxes decoded in this thread (decodesInThread).
 */
export async function readDecodedStoredFrame(instance: StoredInstance, source: PixelSource, n: number, what: string, allocate?: FrameAllocator): Promise<DecodedFrame> {
  if (!source.layout.encapsulated || decodesInThread(source.info)) return readDecodedFrame(source, n, what, allocate);
  return decodeStoredInPool(instance, n, (failure) => {
    if (failure.stage === 'read') throw new AppError(failure.kind, failure.message);
    const where = `frame ${n} of ${what} (stored as ${source.info.transferSyntaxUID})`;
    if (failure.appError) throw new AppError(failure.kind, `${where}: ${failure.message}`);
    throw new AppError('bad-dicom', `${where} cannot be decoded: ${failure.message}`);
  });
}
