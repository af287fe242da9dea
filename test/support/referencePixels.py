#!/usr/bin/python3
"""Reference pixels for the decoder tests (issue 4 section 4): decode every frame
of a DICOM file with an independent decoder and write each one as the bytes
our DecodedFrame must hold (little endian words of BitsAllocated, samples
interleaved, unsigned values masked to BitsStored, signed values sign-extended
from BitsStored).

    referencePixels.py DECODER IN.dcm OUT_DIR

DECODER is
  dcmtk  - dcmdjpeg / dcmdrle / dcmdjpls (chosen by transfer syntax) write an
           uncompressed file, which pydicom then reads natively;
  gdcm   - gdcmconv --raw writes an uncompressed file, read the same way;
  pydicom-gdcm - pydicom 2.3 with the GDCM handler (python3-gdcm);
  pydicom-pillow - pydicom 2.3 with Pillow (libjpeg, OpenJPEG);
  pydicom      - pydicom's own handlers (native, deflate, RLE).
Writes OUT_DIR/frame<N>.raw (N from 1) and prints one JSON line:
{"frames", "rows", "columns", "samplesPerPixel", "bitsAllocated",
 "photometricInterpretation"} of the decoded data.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.pixel_data_handlers import gdcm_handler, numpy_handler, pillow_handler, rle_handler

JPEG_SYNTAXES = {'1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'}
JPEG_LS_SYNTAXES = {'1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'}
RLE = '1.2.840.10008.1.2.5'


def uncompressed_with(tool_args, path, workdir):
    out = os.path.join(workdir, 'decoded.dcm')
    subprocess.run(tool_args + [path, out], check=True, stdout=subprocess.DEVNULL)
    return pydicom.dcmread(out)


def decode(decoder, path, workdir):
    if decoder == 'pydicom-gdcm':
        ds = pydicom.dcmread(path)
        ds.pixel_data_handlers = [gdcm_handler]
        pydicom.config.pixel_data_handlers = [gdcm_handler]
        return ds, ds.pixel_array
    if decoder == 'pydicom-pillow':
        pydicom.config.pixel_data_handlers = [pillow_handler]
        ds = pydicom.dcmread(path)
        return ds, ds.pixel_array
    if decoder == 'pydicom':
        pydicom.config.pixel_data_handlers = [numpy_handler, rle_handler]
        ds = pydicom.dcmread(path)
        return ds, ds.pixel_array
    pydicom.config.pixel_data_handlers = [numpy_handler]
    if decoder == 'gdcm':
        ds = uncompressed_with(['gdcmconv', '--raw'], path, workdir)
        return ds, ds.pixel_array
    if decoder == 'dcmtk':
        syntax = pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
        if syntax in JPEG_SYNTAXES:
            tool = ['dcmdjpeg']
        elif syntax in JPEG_LS_SYNTAXES:
            tool = ['dcmdjpls']
        elif syntax == RLE:
            tool = ['dcmdrle']
        else:
            raise SystemExit(f'dcmtk has no decoder for {syntax}')
        ds = uncompressed_with(tool, path, workdir)
        return ds, ds.pixel_array
    raise SystemExit(f'unknown decoder {decoder}')


def normalise(arr, ds):
    allocated = ds.BitsAllocated
    stored = ds.BitsStored
    signed = ds.PixelRepresentation == 1
    wide = arr.astype(np.int64)
    if stored < allocated:
        wide &= (1 << stored) - 1
        if signed:
            wide = np.where(wide >= (1 << (stored - 1)), wide - (1 << stored), wide)
    kind = ('<i' if signed else '<u') + str(allocated // 8)
    if not signed:
        wide &= (1 << allocated) - 1
    return wide.astype(kind)


def main():
    decoder, path, out_dir = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as workdir:
        ds, arr = decode(decoder, path, workdir)
    frames = int(ds.get('NumberOfFrames', 1) or 1)
    samples = ds.SamplesPerPixel
    arr = normalise(arr, ds).reshape(frames, ds.Rows, ds.Columns, samples)
    for n in range(frames):
        with open(os.path.join(out_dir, f'frame{n + 1}.raw'), 'wb') as f:
            f.write(np.ascontiguousarray(arr[n]).tobytes())
    print(json.dumps({
        'frames': frames,
        'rows': ds.Rows,
        'columns': ds.Columns,
        'samplesPerPixel': samples,
        'bitsAllocated': ds.BitsAllocated,
        'photometricInterpretation': ds.PhotometricInterpretation,
    }))


main()
