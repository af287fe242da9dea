#!/usr/bin/python3
"""Synthetic pixel data for the decoder tests (what pydicom's samples lack),
written with pydicom 2.3 + numpy:

  synthPixels.py native OUT.dcm JSON
      an Explicit VR Little Endian file; JSON gives rows, columns, samples,
      bitsAllocated, bitsStored, signed (bool), photometric, planar (0/1),
      frames, and optional palette (bool: PALETTE COLOR with 8-bit LUTs).
      Pixels: a deterministic pattern (gradients plus pseudo-random noise)
      that spans the whole range of BitsStored, negative values included
      when signed; samples stored planar when planar is 1.
  synthPixels.py j2k OUT.dcm IN.dcm CODESTREAM.j2k SYNTAX PHOTOMETRIC
      IN's dataset with its Pixel Data replaced by one encapsulated JPEG 2000
      codestream (made by opj_compress), the transfer syntax and photometric
      interpretation set, and new Series and SOP Instance UIDs (so that a
      store can hold it beside IN).
  synthPixels.py refragment OUT.dcm IN.dcm FRAGMENTS_PER_FRAME BOT(0/1)
      IN's encapsulated frames split into several fragments each, with or
      without a Basic Offset Table.
  synthPixels.py raw OUT.raw IN.dcm
      IN's first frame as planar raw samples (opj_compress's .raw input,
      big endian words for 16-bit data as opj_compress reads them).
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_pixel_data_frame
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def pattern(spec):
    rows, cols, samples, frames = spec['rows'], spec['columns'], spec['samples'], spec['frames']
    stored, signed = spec['bitsStored'], spec['signed']
    rng = np.random.default_rng(4)
    y, x = np.mgrid[0:rows, 0:cols]
    span = 1 << stored
    out = np.empty((frames, rows, cols, samples), dtype=np.int64)
    for f in range(frames):
        for s in range(samples):
            smooth = (x * (span - 1) // max(cols - 1, 1) + y * 7 * (s + 1) + f * 13) % span
            noise = rng.integers(0, max(span // 16, 2), size=(rows, cols))
            out[f, :, :, s] = (smooth + noise) % span
    out[:, 0, 0, :] = 0
    out[:, 0, 1, :] = span - 1
    if signed:
        out -= span // 2
    return out


def native(path, spec):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = 'SYNTH'
    ds.Modality = 'OT'
    ds.Rows = spec['rows']
    ds.Columns = spec['columns']
    ds.SamplesPerPixel = spec['samples']
    ds.BitsAllocated = spec['bitsAllocated']
    ds.BitsStored = spec['bitsStored']
    ds.HighBit = spec['bitsStored'] - 1
    ds.PixelRepresentation = 1 if spec['signed'] else 0
    ds.PhotometricInterpretation = spec['photometric']
    if spec['samples'] > 1:
        ds.PlanarConfiguration = spec['planar']
    if spec['frames'] > 1:
        ds.NumberOfFrames = spec['frames']
    if spec.get('palette'):
        ramp = np.arange(256, dtype='<u2')
        ds.RedPaletteColorLookupTableDescriptor = [256, 0, 8]
        ds.GreenPaletteColorLookupTableDescriptor = [256, 0, 8]
        ds.BluePaletteColorLookupTableDescriptor = [256, 0, 8]
        ds.RedPaletteColorLookupTableData = ramp.tobytes()
        ds.GreenPaletteColorLookupTableData = ramp[::-1].copy().tobytes()
        ds.BluePaletteColorLookupTableData = ((ramp * 3) % 256).astype('<u2').tobytes()
    values = pattern(spec)
    kind = ('<i' if spec['signed'] else '<u') + str(spec['bitsAllocated'] // 8)
    words = values.astype(kind)
    if spec['samples'] > 1 and spec['planar'] == 1:
        words = np.ascontiguousarray(words.transpose(0, 3, 1, 2))
    ds.PixelData = words.tobytes()
    ds['PixelData'].VR = 'OB' if spec['bitsAllocated'] == 8 else 'OW'
    ds.save_as(path, write_like_original=False)


def frames_of(ds):
    count = int(ds.get('NumberOfFrames', 1) or 1)
    return list(generate_pixel_data_frame(ds.PixelData, count))


def j2k(out, source, codestream, syntax, photometric):
    ds = pydicom.dcmread(source)
    with open(codestream, 'rb') as f:
        data = f.read()
    ds.PixelData = encapsulate([data])
    ds['PixelData'].VR = 'OB'
    ds['PixelData'].is_undefined_length = True
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.save_as(out, write_like_original=False)


def refragment(out, source, per_frame, bot):
    ds = pydicom.dcmread(source)
    frames = frames_of(ds)
    ds.PixelData = encapsulate(frames, fragments_per_frame=per_frame, has_bot=bot)
    ds['PixelData'].is_undefined_length = True
    ds.save_as(out, write_like_original=False)


def raw(out, source):
    ds = pydicom.dcmread(source)
    arr = ds.pixel_array
    if ds.SamplesPerPixel == 1:
        arr = arr[..., np.newaxis]
    planar = np.ascontiguousarray(arr.transpose(2, 0, 1))
    kind = ('>i' if ds.PixelRepresentation == 1 else '>u') + str(ds.BitsAllocated // 8)
    with open(out, 'wb') as f:
        f.write(planar.astype(kind).tobytes())


def main():
    command = sys.argv[1]
    if command == 'native':
        native(sys.argv[2], json.loads(sys.argv[3]))
    elif command == 'j2k':
        j2k(*sys.argv[2:7])
    elif command == 'refragment':
        refragment(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == '1')
    elif command == 'raw':
        raw(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f'unknown command {command}')


main()
