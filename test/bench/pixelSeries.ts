/**
 * The pixel benchmark's data (issue 4 §5): one synthetic CT-like study of
 * 512x512 16-bit slices (body outline, fat, soft tissue, lungs with vessel
 * texture, heart, contrast-filled aorta, vertebra, table, Gaussian noise),
 * stored as four series holding the same pixels: Explicit VR Little Endian
 * (PS3.5 A.2), RLE Lossless (A.4.2), JPEG-LS lossless (A.4.3) and JPEG 2000
 * lossless (A.4.4). Each series has its own UIDs, so one server stores all four.
 *
 * The native files are written with pydicom (Debian python3-pydicom) and
 * compressed with the real encoders a site would use: dcmtk's dcmcrle and
 * dcmcjpls, GDCM's gdcmconv --j2k (libgdcm-tools). Every compressed file is
 * then read back with pydicom (RLE: its own handler; JPEG-LS, JPEG 2000:
 * python3-gdcm) and checked to hold exactly the original pixels, so a frame a
 * server decodes can be compared with `raw(k)` byte for byte.
 *
 * The Python part is inline (run with `python3 -c`) so that the compiled
 * benchmark (dist/test/bench/) does not need to locate a source file.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const PYTHON = '/usr/bin/python3';

export interface SyntaxSeries {
  /** 'native', 'rle', 'jpegls', 'j2k' */
  name: string;
  label: string;
  transferSyntaxUID: string;
  seriesInstanceUID: string;
  /** Per instance k (0-based): SOP Instance UID and file path. */
  instances: { sopInstanceUID: string; file: string; bytes: number }[];
}

export interface PixelSeries {
  dir: string;
  count: number;
  rows: number;
  columns: number;
  signed: boolean;
  bitsStored: number;
  patientID: string;
  studyInstanceUID: string;
  series: SyntaxSeries[];
  /** The pixels of slice k as Explicit VR Little Endian would hold them (rows*columns*2 bytes). */
  raw(k: number): Buffer;
}

const LABELS: Record<string, string> = {
  native: 'Explicit VR Little Endian (native)',
  rle: 'RLE Lossless',
  jpegls: 'JPEG-LS lossless',
  j2k: 'JPEG 2000 lossless',
};

const SCRIPT = String.raw`
import json, os, subprocess, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset

out_dir, count, signed = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'signed'
ROWS = COLS = 512
ROOT = '1.2.826.0.1.3680043.10.1137.9'
PATIENT_ID = 'BENCHPIX'
SYNTAXES = [
    # name, transfer syntax, encoder command (input and output appended)
    ('native', '1.2.840.10008.1.2.1', None),
    ('rle', '1.2.840.10008.1.2.5', ['dcmcrle']),
    ('jpegls', '1.2.840.10008.1.2.4.80', ['dcmcjpls', '+el']),
    ('j2k', '1.2.840.10008.1.2.4.90', ['gdcmconv', '--j2k']),
]
uid = lambda *parts: '.'.join([ROOT] + [str(p) for p in parts])

def slice_hu(k):
    rng = np.random.default_rng(1000 + k)
    z = k / max(count - 1, 1)
    y, x = np.mgrid[-1:1:ROWS * 1j, -1:1:COLS * 1j]
    hu = np.full((ROWS, COLS), -1000.0)
    body = (x / 0.82) ** 2 + (y / 0.62) ** 2 < 1
    hu[body] = -100.0  # subcutaneous fat
    inner = (x / 0.76) ** 2 + (y / 0.56) ** 2 < 1
    hu[inner] = 40 + 15 * np.sin(6 * x[inner] + 4 * y[inner] + 3 * z)  # soft tissue
    lung_r = 0.22 + 0.08 * np.sin(np.pi * z)
    for cx in (-0.36, 0.36):
        lung = ((x - cx) / lung_r) ** 2 + ((y + 0.05) / 0.36) ** 2 < 1
        hu[lung] = -850 + 60 * np.sin(25 * x[lung]) * np.cos(21 * y[lung])  # vessels
    heart = ((x + 0.08) / 0.2) ** 2 + ((y + 0.02) / 0.17) ** 2 < 1
    hu[heart] = 45
    aorta = (x - 0.12) ** 2 + (y - 0.22) ** 2 < 0.05 ** 2
    hu[aorta] = 180  # contrast
    r = np.sqrt(x ** 2 + (y - 0.42) ** 2)
    hu[r < 0.1] = 1100  # vertebral cortex
    hu[r < 0.08] = 300  # cancellous bone
    table = (np.abs(y - 0.8) < 0.025) & (np.abs(x) < 0.9)
    hu[table] = 150
    noise = rng.normal(0, 12, (ROWS, COLS))
    return np.round(hu + np.where(body, noise, noise / 3))

def write_native(path, s, name, k, pixels):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
    meta.MediaStorageSOPInstanceUID = uid(2, s, k + 1)
    meta.TransferSyntaxUID = '1.2.840.10008.1.2.1'
    meta.ImplementationClassUID = uid(0, 0)
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = 'ISO_IR 100'
    ds.ImageType = ['ORIGINAL', 'PRIMARY', 'AXIAL']
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate, ds.StudyTime = '20240102', '101500'
    ds.AccessionNumber = 'PIXBENCH'
    ds.Modality = 'CT'
    ds.PatientName = 'BENCH^PIXELS'
    ds.PatientID = PATIENT_ID
    ds.StudyInstanceUID = uid(0, 1)
    ds.SeriesInstanceUID = uid(1, s)
    ds.SeriesDescription = 'Pixels bench ' + name
    ds.SeriesNumber = s + 1
    ds.InstanceNumber = k + 1
    ds.ImagePositionPatient = [-250, -250, -2.5 * k]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness = 2.5
    ds.PixelSpacing = [0.9765625, 0.9765625]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.Rows, ds.Columns = ROWS, COLS
    ds.BitsAllocated = 16
    if signed:
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    else:
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = pixels.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)

series = [{'name': n, 'transferSyntaxUID': ts, 'seriesInstanceUID': uid(1, s), 'instances': []} for s, (n, ts, _) in enumerate(SYNTAXES)]
for k in range(count):
    hu = slice_hu(k)
    pixels = hu.astype('<i2') if signed else np.clip(hu + 1024, 0, 4095).astype('<u2')
    with open(os.path.join(out_dir, 'raw-%03d.bin' % k), 'wb') as f:
        f.write(pixels.tobytes())
    for s, (name, ts, encoder) in enumerate(SYNTAXES):
        target = os.path.join(out_dir, '%s-%03d.dcm' % (name, k))
        if encoder is None:
            write_native(target, s, name, k, pixels)
        else:
            native = os.path.join(out_dir, 'tmp-%s-%03d.dcm' % (name, k))
            write_native(native, s, name, k, pixels)
            done = subprocess.run(encoder + [native, target], capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit('%s failed on %s: %s' % (' '.join(encoder), native, done.stderr or done.stdout))
            os.remove(native)
        back = pydicom.dcmread(target)
        if back.file_meta.TransferSyntaxUID != ts or back.SOPInstanceUID != uid(2, s, k + 1):
            sys.exit('%s: transfer syntax %s, SOP Instance UID %s (expected %s, %s)' % (target, back.file_meta.TransferSyntaxUID, back.SOPInstanceUID, ts, uid(2, s, k + 1)))
        if not np.array_equal(back.pixel_array, pixels):
            sys.exit('%s: pydicom does not read back the original pixels (the encoder was not lossless)' % target)
        series[s]['instances'].append({'sopInstanceUID': back.SOPInstanceUID, 'file': target, 'bytes': os.path.getsize(target)})

print(json.dumps({'rows': ROWS, 'columns': COLS, 'bitsStored': 16 if signed else 12, 'patientID': PATIENT_ID, 'studyInstanceUID': uid(0, 1), 'series': series}))
`;

/**
 * Writes `count` slices in each of the four transfer syntaxes into `dir`
 * (a fresh temp directory of the run): ~0.5 MB native, ~0.18–0.27 MB compressed each.
 */
export async function writePixelSeries(dir: string, count: number, signed: boolean): Promise<PixelSeries> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(PYTHON, ['-c', SCRIPT, dir, String(count), signed ? 'signed' : 'unsigned'], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`generating the pixel series failed (needs python3-pydicom, python3-gdcm, numpy, dcmtk, libgdcm-tools): ${e.stderr?.trim() || e.message}`);
  }
  const manifest = JSON.parse(stdout) as Omit<PixelSeries, 'dir' | 'count' | 'signed' | 'raw' | 'series'> & { series: Omit<SyntaxSeries, 'label'>[] };
  return {
    ...manifest,
    dir,
    count,
    signed,
    series: manifest.series.map((s) => ({ ...s, label: LABELS[s.name] ?? s.name })),
    raw: (k) => readFileSync(join(dir, `raw-${String(k).padStart(3, '0')}.bin`)),
  };
}
