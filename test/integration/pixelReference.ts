/**
 * Reference pixels from decoders that are not ours, for the WADO-RS decoded
 * frames and transcoding tests: test/support/referencePixels.py (dcmtk's
 * dcmdrle/dcmdjpeg/dcmdjpls, GDCM's gdcmconv --raw, or pydicom) writes each
 * frame as DecodedFrame bytes; this reads them back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable } from '../support/peers.js';

const SCRIPT = new URL('../support/referencePixels.py', import.meta.url).pathname;

export type ReferenceDecoder = 'dcmtk' | 'gdcm' | 'pydicom';

export interface ReferencePixels {
  frames: Buffer[];
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometricInterpretation: string;
}

/** dcmtk (dcmdrle, dcmdjpeg, dcmdjpls), gdcmconv and python3-gdcm: the tests that need them skip (fail in CI) when absent. */
export const haveReferenceDecoders = peerAvailable(
  'dcmtk libgdcm-tools python3-pydicom',
  ['/usr/bin/dcmdrle', '/usr/bin/dcmdjpeg', '/usr/bin/dcmdjpls', '/usr/bin/gdcmconv', '/usr/bin/dcmdump'].every(existsSync) &&
    existsSync('/usr/lib/python3/dist-packages/pydicom'),
);

/** The decoder of another project for a transfer syntax: dcmtk for RLE, JPEG and JPEG-LS, GDCM for JPEG 2000, pydicom for native data. */
export function referenceDecoderFor(transferSyntaxUID: string): ReferenceDecoder {
  if (transferSyntaxUID.startsWith('1.2.840.10008.1.2.4.9')) return 'gdcm';
  if (['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2'].includes(transferSyntaxUID)) return 'pydicom';
  return 'dcmtk';
}

export function referencePixels(path: string, decoder: ReferenceDecoder): ReferencePixels {
  const dir = mkdtempSync(join(tmpdir(), 'reference-pixels-'));
  try {
    const out = execFileSync('/usr/bin/python3', [SCRIPT, decoder, path, dir], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).toString();
    const meta = JSON.parse(out.trim().split('\n').pop()!) as Omit<ReferencePixels, 'frames'> & { frames: number };
    const frames = Array.from({ length: meta.frames }, (_, i) => readFileSync(join(dir, `frame${i + 1}.raw`)));
    return { ...meta, frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest difference between two frames' sample values (words of `bitsAllocated`, little endian; signed when `signed`). */
export function maxSampleDifference(a: Buffer, b: Buffer, bitsAllocated: number, signed: boolean): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  const size = bitsAllocated / 8;
  let max = 0;
  for (let i = 0; i + size <= a.length; i += size) {
    const x = size === 1 ? (signed ? a.readInt8(i) : a[i]!) : size === 2 ? (signed ? a.readInt16LE(i) : a.readUInt16LE(i)) : signed ? a.readInt32LE(i) : a.readUInt32LE(i);
    const y = size === 1 ? (signed ? b.readInt8(i) : b[i]!) : size === 2 ? (signed ? b.readInt16LE(i) : b.readUInt16LE(i)) : signed ? b.readInt32LE(i) : b.readUInt32LE(i);
    max = Math.max(max, Math.abs(x - y));
  }
  return max;
}

/** Instances written for the decoding and transcoding tests (pydicom, new UIDs), by name. */
export interface CraftedInstances {
  /** RLE, 2 frames; frame 2's header lists 15 segments at offsets beyond the fragment. */
  rleBadFrame2: string;
  /** RLE, 2 frames; frame 1 cut to its header. InstanceNumber 2, same study and series as `rleGood`. */
  rleBadFrame1: string;
  /** The intact RLE sample (InstanceNumber 1) in the study of `rleBadFrame1`. */
  rleGood: string;
  /** JPEG baseline, 2 frames; frame 2 cut to its first 200 bytes. */
  jpegBadFrame2: string;
  /** RLE, 2 frames, with an Extended Offset Table (7FE0,0001)/(7FE0,0002) and an empty Basic Offset Table. */
  rleExtendedOffsets: string;
  /**
   * RLE, 2 frames, with a private (0029,1010) of VR UN and undefined length
   * holding implicit VR items (PS3.5 6.2.2), before Pixel Data.
   */
  rleWithUnSequence: string;
  /** One study, one series: RLE (InstanceNumber 1), JPEG baseline (2), Explicit VR Little Endian (3). */
  mixedStudy: string[];
}

export function writeCraftedInstances(dir: string, samples: (name: string) => string): CraftedInstances {
  const script = `
import sys, warnings, os
warnings.filterwarnings('ignore')
import pydicom
from pydicom.encaps import encapsulate, encapsulate_extended, generate_pixel_data_frame
from pydicom.uid import generate_uid
rle_path, jpeg_path, ct_path, out = sys.argv[1:5]

def renew(ds, study=None, series=None, number=None):
    if study:
        ds.PatientID = 'TRANSCODE-MIXED'; ds.PatientName = 'Transcode^Mixed'
    ds.SOPInstanceUID = generate_uid(); ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if study: ds.StudyInstanceUID = study
    if series: ds.SeriesInstanceUID = series
    if number is not None: ds.InstanceNumber = number
    return ds

def rle():
    ds = pydicom.dcmread(rle_path)
    return ds, list(generate_pixel_data_frame(ds.PixelData, 2))

ds, frames = rle()
bad = bytearray(frames[1])
bad[0:4] = (15).to_bytes(4, 'little')
for i in range(1, 16): bad[4 * i:4 * i + 4] = (0x7fff0000 + i).to_bytes(4, 'little')
ds.PixelData = encapsulate([frames[0], bytes(bad)])
renew(ds).save_as(os.path.join(out, 'rleBadFrame2.dcm'))

study, series = generate_uid(), generate_uid()
ds, frames = rle()
renew(ds, study, series, 1).save_as(os.path.join(out, 'rleGood.dcm'))
ds, frames = rle()
ds.PixelData = encapsulate([frames[0][:64], frames[1]])
renew(ds, study, series, 2).save_as(os.path.join(out, 'rleBadFrame1.dcm'))

ds = pydicom.dcmread(jpeg_path)
frame = next(generate_pixel_data_frame(ds.PixelData, 1))
ds.PixelData = encapsulate([frame, frame[:200]])
ds.NumberOfFrames = 2
renew(ds).save_as(os.path.join(out, 'jpegBadFrame2.dcm'))

ds, frames = rle()
data, offsets, lengths = encapsulate_extended(frames)
ds.PixelData = data
ds.ExtendedOffsetTable = offsets
ds.ExtendedOffsetTableLengths = lengths
renew(ds).save_as(os.path.join(out, 'rleExtendedOffsets.dcm'))

import struct
ds, frames = rle()
item = struct.pack('<HHI', 0x0010, 0x0010, 4) + b'AB^C'
content = struct.pack('<HHI', 0xfffe, 0xe000, 0xffffffff) + item + struct.pack('<HHI', 0xfffe, 0xe00d, 0) + struct.pack('<HHI', 0xfffe, 0xe0dd, 0)
ds.add_new(0x00290010, 'LO', 'H3 TEST')
ds.add_new(0x00291010, 'UN', content)
renew(ds)
path = os.path.join(out, 'rleWithUnSequence.dcm')
ds.save_as(path)
raw = open(path, 'rb').read()
head = struct.pack('<HH', 0x0029, 0x1010) + b'UN\\0\\0' + struct.pack('<I', len(content))
assert raw.count(head) == 1
open(path, 'wb').write(raw.replace(head, head[:8] + b'\\xff\\xff\\xff\\xff'))

study, series = generate_uid(), generate_uid()
ds, frames = rle()
renew(ds, study, series, 1).save_as(os.path.join(out, 'mixed1.dcm'))
ds = pydicom.dcmread(jpeg_path)
renew(ds, study, series, 2).save_as(os.path.join(out, 'mixed2.dcm'))
ds = pydicom.dcmread(ct_path)
renew(ds, study, series, 3).save_as(os.path.join(out, 'mixed3.dcm'))
`;
  execFileSync('/usr/bin/python3', ['-c', script, samples('SC_rgb_rle_2frame.dcm'), samples('SC_rgb_jpeg_dcmtk.dcm'), samples('CT_small.dcm'), dir]);
  const at = (name: string) => join(dir, `${name}.dcm`);
  return {
    rleBadFrame2: at('rleBadFrame2'),
    rleBadFrame1: at('rleBadFrame1'),
    rleGood: at('rleGood'),
    jpegBadFrame2: at('jpegBadFrame2'),
    rleExtendedOffsets: at('rleExtendedOffsets'),
    rleWithUnSequence: at('rleWithUnSequence'),
    mixedStudy: [at('mixed1'), at('mixed2'), at('mixed3')],
  };
}
