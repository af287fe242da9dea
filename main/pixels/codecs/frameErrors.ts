/**
 * The errors a codec reports. Corrupt compressed data is the file's fault
 * ('bad-dicom', HTTP 400), a syntax or variant no decoder here takes is
 * 'not-acceptable' (406); both name the transfer syntax (issue 4 §1: never
 * garbage pixels, never a crash).
 */
import { AppError } from '../../errors.js';

const SYNTAX_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile / High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile / Level 5.1',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10 Profile / Level 5.1',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
};

/** "JPEG Baseline (Process 1) (1.2.840.10008.1.2.4.50)", or the bare UID when unknown. */
export function syntaxName(uid: string): string {
  const name = SYNTAX_NAMES[uid];
  return name ? `${name} (${uid})` : uid;
}

export function corrupt(syntax: string, what: string): AppError {
  return new AppError('bad-dicom', `cannot decode ${syntaxName(syntax)} pixel data: ${what}`);
}

export function unsupported(syntax: string, what: string): AppError {
  return new AppError('not-acceptable', `cannot decode ${syntaxName(syntax)} pixel data: ${what}`);
}

/** A codec's own failure (exception, wasm abort, number thrown by emscripten) as 'bad-dicom'. */
export function codecFailure(syntax: string, codec: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const reason = err instanceof Error ? err.message : typeof err === 'string' ? err : `error code ${String(err)}`;
  return corrupt(syntax, `${codec} failed: ${reason}`);
}
