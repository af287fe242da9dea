/**
 * Where a stored instance's frames are read from: the stored file at the
 * offsets the index holds, or the inflated dataset of a deflated file. One
 * source per request; close it when done.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { locateBulk } from '../dicom/locateBulk.js';
import type { PixelLayout } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { StoredInstance } from '../store/types.js';
import { bufferByteSource, fileByteSource, frameRanges, readEncapsulatedFrame, readNativeFrame, type ByteSource } from '../dicomweb/frames.js';
import type { FrameAllocator, FrameInfo } from './types.js';

export interface PixelSource {
  layout: PixelLayout;
  info: FrameInfo;
  /**
   * Frame n (1-based) as stored: native frames little endian, encapsulated
   * frames their fragments concatenated; read into `allocate`'s buffer when
   * given (a frame that needs reworking, e.g. big endian, may come back in another).
   */
  readStoredFrame(n: number, allocate?: FrameAllocator): Promise<Buffer>;
  close(): Promise<void>;
}

export interface PixelSourceOptions {
  /** Big endian 8-bit Pixel Data stored as OW (its bytes swapped in 16-bit words, PS3.5 7.3). */
  eightBitAsOW?: boolean;
  /**
   * Read with blocking calls: for a pixel worker thread, where blocking holds up
   * nobody else and saves the libuv thread-pool round trip of each open, read
   * and close (three per frame; measured with bench:pixels).
   */
  blocking?: boolean;
}

/** fileByteSource over a descriptor read with readSync (see PixelSourceOptions.blocking). */
function blockingByteSource(fd: number, what: string): ByteSource {
  return {
    async read({ offset, length }, into) {
      const buffer = into ?? Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const bytesRead = readSync(fd, buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new AppError('store-corrupt', `${what}: file ends before byte ${offset + length}`);
        done += bytesRead;
      }
      return buffer;
    },
  };
}

export function frameInfoOf(instance: StoredInstance, layout: PixelLayout): FrameInfo {
  return {
    transferSyntaxUID: instance.transferSyntaxUID,
    rows: layout.rows,
    columns: layout.columns,
    samplesPerPixel: layout.samplesPerPixel,
    bitsAllocated: layout.bitsAllocated,
    bitsStored: layout.bitsStored,
    highBit: layout.highBit,
    pixelRepresentation: layout.pixelRepresentation,
    planarConfiguration: layout.planarConfiguration,
    photometricInterpretation: layout.photometricInterpretation,
  };
}

export async function openPixelSource(instance: StoredInstance, options: PixelSourceOptions = {}): Promise<PixelSource> {
  if (!instance.pixel) throw new AppError('not-found', `instance ${instance.sopInstanceUID} has no pixel data`);
  const what = `instance ${instance.sopInstanceUID}`;
  let source: ByteSource;
  let layout: PixelLayout;
  let close: () => Promise<void>;
  if (instance.deflated) {
    const located = await locateBulk(options.blocking ? readFileSync(instance.path) : await readFile(instance.path));
    source = bufferByteSource(located.bytes, what);
    layout = located.pixel ?? instance.pixel;
    close = async () => {};
  } else if (options.blocking) {
    const fd = openSync(instance.path, 'r');
    source = blockingByteSource(fd, what);
    layout = instance.pixel;
    close = async () => closeSync(fd);
  } else {
    const handle = await open(instance.path, 'r');
    source = fileByteSource(handle, what);
    layout = instance.pixel;
    close = () => handle.close();
  }
  return {
    layout,
    info: frameInfoOf(instance, layout),
    readStoredFrame: (n, allocate) => {
      frameRanges(layout, n); // 404 for a frame beyond the data, before any read
      return layout.encapsulated
        ? readEncapsulatedFrame(source, layout, n, allocate)
        : readNativeFrame(source, layout, n, { bigEndian: instance.bigEndian, eightBitAsOW: options.eightBitAsOW }, allocate);
    },
    close,
  };
}
