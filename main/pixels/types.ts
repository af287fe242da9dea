/**
 * The pixel pipeline's contract (issue 4): what decoding needs to know of a
 * frame, and what a decoded frame is. Decoders (main/pixels/codecs/), the
 * renderer (rendered/thumbnail), WADO-RS frames and transcoding all meet here.
 */

import type { PixelLayout } from '../dicom/types.js';

/**
 * The Image Pixel module attributes (PS3.3 C.7.6.3) decoding needs, as the
 * store's PixelLayout holds them: planarConfiguration as stored (0 interleaved
 * R1G1B1R2…, 1 planar R…G…B…), pixelRepresentation 0 unsigned / 1 two's complement.
 */
export type ImagePixelAttributes = Pick<
  PixelLayout,
  'rows' | 'columns' | 'samplesPerPixel' | 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation' | 'planarConfiguration' | 'photometricInterpretation'
>;

/**
 * Where a frame-sized result is written: a buffer of `length` bytes (contents
 * undefined) that the caller provides, e.g. lent by a BufferPool or reserved
 * inside an answer (bufferPool.ts, retrieveFrames.ts). Without one, a new buffer.
 */
export type FrameAllocator = (length: number) => Buffer;

/** An image's size in pixels (a frame, or what it is shown at). */
export interface ImageSize {
  width: number;
  height: number;
}

/** A stored frame's attributes and its transfer syntax. */
export interface FrameInfo extends ImagePixelAttributes {
  transferSyntaxUID: string;
}

/**
 * One decoded frame: the bytes Explicit VR Little Endian would hold for it.
 *  - little endian words of `bitsAllocated` (8, 16 or 32; 1-bit data is
 *    delivered as stored, packed LSB first);
 *  - samples interleaved (planarConfiguration 0) whatever the stored layout;
 *  - photometricInterpretation after decoding: the colour transform a codec
 *    undoes is reflected here (JPEG lossy YBR_FULL/YBR_FULL_422 → RGB,
 *    JPEG 2000 YBR_ICT/YBR_RCT → RGB); otherwise the stored one. Native
 *    YBR_FULL_422 is expanded to YBR_FULL (one Y, Cb, Cr per pixel).
 *  - pixel values as stored, no modality or VOI LUT applied. Frames decoded
 *    from a compressed syntax have the bits above BitsStored cleared
 *    (PixelRepresentation 0) or filled with the sign bit (1), so a word read
 *    as a signed integer is the value; native frames keep their bits as
 *    stored (a reader should still mask / sign-extend from BitsStored: it is
 *    a no-op on decoded frames).
 */
export interface DecodedFrame extends Omit<ImagePixelAttributes, 'planarConfiguration'> {
  bytes: Buffer;
  planarConfiguration: 0;
}
