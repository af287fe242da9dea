/**
 * Pixel tests' helpers: a DICOM file on disk as the StoredInstance the pixel
 * pipeline reads (no store needed), its frames decoded by us, and the same
 * frames decoded by an independent reference decoder (referencePixels.py:
 * dcmtk, GDCM or pydicom), both as DecodedFrame bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInstance } from '../../main/dicom/parseInstance.js';
import { frameCount } from '../../main/dicomweb/frames.js';
import { openPixelSource } from '../../main/pixels/pixelSource.js';
import type { FrameInfo } from '../../main/pixels/types.js';
import type { StoredInstance } from '../../main/store/types.js';
import { peerAvailable } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';
const REFERENCE_SCRIPT = join(here, 'referencePixels.py');

function pythonHas(modules: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const havePythonGdcm = peerAvailable('python3-gdcm python3-numpy', existsSync(PYTHON) && pythonHas('pydicom, numpy, gdcm'));
export const haveDcmtk = peerAvailable('dcmtk', existsSync('/usr/bin/dcmdjpeg') && existsSync('/usr/bin/dcmcjpls'));
export const haveGdcmTools = peerAvailable('libgdcm-tools', existsSync('/usr/bin/gdcmconv'));
export const haveOpenjpegTools = peerAvailable('libopenjp2-tools', existsSync('/usr/bin/opj_compress'));

/** A Part-10 file as the store would describe it (identifiers are not needed by the pixel pipeline). */
export function instanceFromFile(path: string): StoredInstance {
  const parsed = parseInstance(readFileSync(path));
  return {
    ids: { patient: '', study: '', series: '', instance: '' },
    studyInstanceUID: parsed.studyInstanceUID,
    seriesInstanceUID: parsed.seriesInstanceUID,
    sopInstanceUID: parsed.sopInstanceUID,
    sopClassUID: parsed.sopClassUID,
    transferSyntaxUID: parsed.transferSyntaxUID,
    instanceNumber: null,
    path,
    size: statSync(path).size,
    pixel: parsed.pixel ?? null,
    bulk: parsed.bulk,
    deflated: parsed.deflated,
    bigEndian: parsed.bigEndian,
  };
}

/** Every frame of the file as stored (compressed bytes), with its FrameInfo. */
export async function storedFrames(path: string): Promise<{ info: FrameInfo; frames: Buffer[] }> {
  const source = await openPixelSource(instanceFromFile(path));
  try {
    const frames: Buffer[] = [];
    for (let n = 1; n <= frameCount(source.layout); n++) frames.push(await source.readStoredFrame(n));
    return { info: source.info, frames };
  } finally {
    await source.close();
  }
}

export interface ReferenceFrames {
  frames: Buffer[];
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometricInterpretation: string;
}

export type ReferenceDecoder = 'dcmtk' | 'gdcm' | 'pydicom-gdcm' | 'pydicom';

/** The file's frames decoded by an independent decoder (test/support/referencePixels.py). */
export function referenceFrames(decoder: ReferenceDecoder, path: string): ReferenceFrames {
  const out = mkdtempSync(join(tmpdir(), 'ref-pixels-'));
  try {
    const meta = JSON.parse(execFileSync(PYTHON, [REFERENCE_SCRIPT, decoder, path, out], { encoding: 'utf8' })) as Omit<ReferenceFrames, 'frames'> & { frames: number };
    const frames: Buffer[] = [];
    for (let n = 1; n <= meta.frames; n++) frames.push(readFileSync(join(out, `frame${n}.raw`)));
    return { ...meta, frames };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Largest absolute difference between two frames of the same shape, read as words of `bitsAllocated` (signed or not). */
export function maxDifference(a: Buffer, b: Buffer, bitsAllocated: number, signed: boolean): number {
  if (a.length !== b.length) return Infinity;
  const bytes = bitsAllocated / 8;
  let max = 0;
  for (let i = 0; i < a.length; i += bytes) {
    const x = readWord(a, i, bytes, signed);
    const y = readWord(b, i, bytes, signed);
    if (Math.abs(x - y) > max) max = Math.abs(x - y);
  }
  return max;
}

function readWord(buf: Buffer, at: number, bytes: number, signed: boolean): number {
  if (bytes === 1) return signed ? buf.readInt8(at) : buf.readUInt8(at);
  if (bytes === 2) return signed ? buf.readInt16LE(at) : buf.readUInt16LE(at);
  return signed ? buf.readInt32LE(at) : buf.readUInt32LE(at);
}

/** Mean absolute difference (for lossy comparisons, beside the maximum). */
export function meanDifference(a: Buffer, b: Buffer, bitsAllocated: number, signed: boolean): number {
  const bytes = bitsAllocated / 8;
  let sum = 0;
  for (let i = 0; i < a.length; i += bytes) sum += Math.abs(readWord(a, i, bytes, signed) - readWord(b, i, bytes, signed));
  return sum / (a.length / bytes);
}
