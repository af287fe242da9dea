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
import type { DecodedFrame } from './types.js';

export async function readDecodedFrame(source: PixelSource, n: number, what: string): Promise<DecodedFrame> {
  const stored = await source.readStoredFrame(n);
  try {
    return await decodeFrame(stored, source.info);
  } catch (err) {
    const where = `frame ${n} of ${what} (stored as ${source.info.transferSyntaxUID})`;
    if (err instanceof AppError) throw new AppError(err.kind, `${where}: ${err.message}`, err.details);
    throw new AppError('bad-dicom', `${where} cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The same for frame n of a stored instance, read from its file on a pixel
 * worker thread (compressed bytes never cross between threads; the decoded
 * frame comes back transferred). `source` is the request's own PixelSource,
 * used for syntaxes decoded in this thread (decodesInThread).
 */
export async function readDecodedStoredFrame(instance: StoredInstance, source: PixelSource, n: number, what: string): Promise<DecodedFrame> {
  if (!source.layout.encapsulated || decodesInThread(source.info)) return readDecodedFrame(source, n, what);
  return decodeStoredInPool(instance, n, (failure) => {
    if (failure.stage === 'read') throw new AppError(failure.kind, failure.message);
    const where = `frame ${n} of ${what} (stored as ${source.info.transferSyntaxUID})`;
    if (failure.appError) throw new AppError(failure.kind, `${where}: ${failure.message}`);
    throw new AppError('bad-dicom', `${where} cannot be decoded: ${failure.message}`);
  });
}
