/**
 * Synthetic pixel files for the decoder and rendering tests (test/support/synthPixels.py,
 * pydicom + numpy): a native file of a given shape, and its first frame as a
 * JPEG 2000 file made by the reference encoder (opj_compress, Debian libopenjp2-tools).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PYTHON } from './pixelFiles.js';

const SYNTH = join(import.meta.dirname, 'synthPixels.py');

export interface SynthSpec {
  rows: number;
  columns: number;
  samples: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  photometric: string;
  planar: 0 | 1;
  frames: number;
  palette?: boolean;
}

let count = 0;
const fresh = (dir: string, stem: string, ext: string) => join(dir, `${stem}${++count}-${process.pid}.${ext}`);

/** An Explicit VR Little Endian file of `spec` (a deterministic pattern of gradients and noise) in `dir`. */
export function synthNativeFile(dir: string, spec: SynthSpec): string {
  const path = fresh(dir, 'native', 'dcm');
  execFileSync(PYTHON, [SYNTH, 'native', path, JSON.stringify(spec)]);
  return path;
}

/**
 * The native file's first frame through opj_compress (`options` are its own,
 * e.g. ['-n', '4'] for 3 wavelet levels), wrapped as DICOM with the given
 * syntax and photometric interpretation. `codestream`: where the raw
 * codestream is kept, for tools that read it (opj_decompress, opj_dump).
 */
export function synthJpeg2000File(dir: string, source: string, spec: SynthSpec, options: string[], syntax: string, photometric: string): { path: string; codestream: string } {
  const raw = fresh(dir, 'raw', 'raw');
  const codestream = fresh(dir, 'cs', 'j2k');
  execFileSync(PYTHON, [SYNTH, 'raw', raw, source]);
  const format = `${spec.columns},${spec.rows},${spec.samples},${spec.bitsStored},${spec.signed ? 's' : 'u'}`;
  execFileSync('opj_compress', ['-i', raw, '-F', format, '-o', codestream, ...options], { stdio: ['ignore', 'ignore', 'pipe'] });
  const path = fresh(dir, 'j2k', 'dcm');
  execFileSync(PYTHON, [SYNTH, 'j2k', path, source, codestream, syntax, photometric]);
  return { path, codestream };
}
