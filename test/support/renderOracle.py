#!/usr/bin/python3
"""Reference rendering for the rendered-image tests (issue 4 section 4), from
pydicom's numpy pixel_array, independently of our code:

    renderOracle.py synth OUT_DIR
        writes synthetic native files pydicom's samples lack: rgb_planar.dcm
        (RGB, planar configuration 1, 128x64), ybr_full.dcm (YBR_FULL made
        with pydicom's convert_color_space), palette8.dcm / palette16.dcm
        (PALETTE COLOR, 8- and 16-bit LUT entries, values below and above
        the mapped range), signed12.dcm (12 bits stored of 16, signed,
        rescale, two windows with VOI LUT Function SIGMOID), modality_lut.dcm
        (a Modality LUT Sequence, US data, no window), voi_lut.dcm (a VOI LUT
        Sequence, OW data of 12-bit entries, no window; values on both sides of
        the mapped range), voi_lut_and_window.dcm (both: the window applies);
        prints their names as JSON.
    renderOracle.py expect FILE FRAME [CENTER WIDTH FUNCTION]
        prints {"rows","columns","channels","pixels": base64 of 8-bit
        interleaved samples} of frame FRAME (1-based) as PS3.3 C.11 renders it:
        pydicom's apply_modality_lut, the VOI window (given, else the file's
        first, else min/max of the rescaled pixels with LINEAR_EXACT)
        written out from the PS3.3 C.11.2.1.2 / C.11.2.1.3 formulas,
        or the file's first VOI LUT Sequence table (pydicom's apply_voi_lut,
        scaled from its 2^bits - 1 to 255), MONOCHROME1 inverted; colour through pydicom's convert_color_space
        (YBR_FULL) and apply_color_lut (PALETTE COLOR).
"""
import base64
import json
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import apply_color_lut, apply_modality_lut, apply_voi_lut, convert_color_space
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def window(x, c, w, fn):
    x = x.astype(np.float64)
    if fn == 'linear':
        y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
        y = np.where(x <= c - 0.5 - (w - 1) / 2, 0, np.where(x > c - 0.5 + (w - 1) / 2, 255, y))
    elif fn == 'linear-exact':
        y = ((x - c) / w + 0.5) * 255
        y = np.where(x <= c - w / 2, 0, np.where(x > c + w / 2, 255, y))
    elif fn == 'sigmoid':
        y = 255 / (1 + np.exp(-4 * (x - c) / w))
    else:
        raise SystemExit('unknown function ' + fn)
    return np.clip(np.round(y), 0, 255).astype(np.uint8)


def first(value):
    return float(value[0]) if isinstance(value, pydicom.multival.MultiValue) else float(value)


def expect(path, frame, given):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    frames = int(ds.get('NumberOfFrames', 1) or 1)
    if frames > 1:
        arr = arr[frame - 1]
    if ds.BitsAllocated > ds.BitsStored and ds.SamplesPerPixel == 1:
        # pydicom 2.3 leaves the bits outside BitsStored as they were: keep High Bit..High Bit-BitsStored+1 (PS3.5 8.1.1).
        raw = arr.astype(np.int64) & (2 ** ds.BitsAllocated - 1)
        raw = (raw >> (ds.HighBit + 1 - ds.BitsStored)) & (2 ** ds.BitsStored - 1)
        if ds.PixelRepresentation == 1:
            raw = np.where(raw >= 2 ** (ds.BitsStored - 1), raw - 2 ** ds.BitsStored, raw)
        arr = raw
    pi = ds.PhotometricInterpretation
    if pi in ('MONOCHROME1', 'MONOCHROME2'):
        x = apply_modality_lut(arr, ds).astype(np.float64)
        if given:
            c, w, fn = float(given[0]), float(given[1]), given[2]
        elif 'WindowCenter' in ds and 'WindowWidth' in ds:
            c, w = first(ds.WindowCenter), first(ds.WindowWidth)
            fn = {'LINEAR_EXACT': 'linear-exact', 'SIGMOID': 'sigmoid'}.get(str(ds.get('VOILUTFunction', 'LINEAR')), 'linear')
        elif 'VOILUTSequence' in ds:
            c = None
        else:
            lo, hi = float(x.min()), float(x.max())
            c, w, fn = (lo + hi) / 2, max(hi - lo, 1e-12), 'linear-exact'
        if c is None:
            bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
            y = apply_voi_lut(x.astype(np.int64), ds, index=0).astype(np.float64)
            out = np.clip(np.round(y * 255 / (2 ** bits - 1)), 0, 255).astype(np.uint8)
        else:
            out = window(x, c, w, fn)
        if pi == 'MONOCHROME1':
            out = 255 - out
        channels = 1
    elif pi == 'RGB':
        bits = ds.BitsStored
        out = arr if bits == 8 else np.round(arr.astype(np.float64) * 255 / (2 ** bits - 1)).astype(np.uint8)
        channels = 3
    elif pi.startswith('YBR_FULL'):
        out = convert_color_space(arr, 'YBR_FULL', 'RGB')
        channels = 3
    elif pi == 'PALETTE COLOR':
        rgb = apply_color_lut(arr, ds)
        out = (rgb >> 8).astype(np.uint8) if ds.RedPaletteColorLookupTableDescriptor[2] == 16 else rgb.astype(np.uint8)
        channels = 3
    else:
        raise SystemExit('no reference rendering for ' + pi)
    out = np.ascontiguousarray(out.astype(np.uint8))
    print(json.dumps({'rows': int(ds.Rows), 'columns': int(ds.Columns), 'channels': channels,
                      'pixels': base64.b64encode(out.tobytes()).decode('ascii')}))


def new_dataset(rows, columns):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'  # Secondary Capture
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = 'RENDER'
    ds.PatientName = 'RENDER^ORACLE'
    ds.Modality = 'OT'
    ds.Rows = rows
    ds.Columns = columns
    return ds


def save(ds, out_dir, name, pixels):
    ds.PixelData = pixels.tobytes()
    ds['PixelData'].VR = 'OW' if ds.BitsAllocated > 8 else 'OB'
    ds.save_as(os.path.join(out_dir, name), write_like_original=False)
    return name


def synth(out_dir):
    names = []
    yy, xx = np.mgrid[0:64, 0:128]
    rgb = np.stack([(xx * 2) % 256, (yy * 4) % 256, (xx + yy * 3) % 256], axis=-1).astype(np.uint8)

    ds = new_dataset(64, 128)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, 'RGB', 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    names.append(save(ds, out_dir, 'rgb_planar.dcm', np.ascontiguousarray(rgb.transpose(2, 0, 1))))

    ybr = convert_color_space(rgb[:48, :64], 'RGB', 'YBR_FULL')
    ds = new_dataset(48, 64)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, 'YBR_FULL', 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    names.append(save(ds, out_dir, 'ybr_full.dcm', np.ascontiguousarray(ybr)))

    # 8-bit entries, 200 of them from value 20: values 0..19 and 220..255 fall outside.
    ds = new_dataset(32, 48)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'PALETTE COLOR'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    entries = np.arange(200)
    ds.RedPaletteColorLookupTableDescriptor = [200, 20, 8]
    ds.GreenPaletteColorLookupTableDescriptor = [200, 20, 8]
    ds.BluePaletteColorLookupTableDescriptor = [200, 20, 8]
    ds.RedPaletteColorLookupTableData = (entries % 256).astype(np.uint8).tobytes()
    ds.GreenPaletteColorLookupTableData = (255 - entries).astype(np.uint8).tobytes()
    ds.BluePaletteColorLookupTableData = ((entries * 7) % 256).astype(np.uint8).tobytes()
    for tag in (0x00281201, 0x00281202, 0x00281203):
        ds[tag].VR = 'OW'
    values = ((np.arange(32 * 48) * 5) % 256).astype(np.uint8).reshape(32, 48)
    names.append(save(ds, out_dir, 'palette8.dcm', values))

    # 16-bit entries, 4096 of them from value 100, 12-bit stored values up to 4300.
    ds = new_dataset(40, 40)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'PALETTE COLOR'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 13, 12, 0
    entries = np.arange(4096)
    ds.RedPaletteColorLookupTableDescriptor = [4096, 100, 16]
    ds.GreenPaletteColorLookupTableDescriptor = [4096, 100, 16]
    ds.BluePaletteColorLookupTableDescriptor = [4096, 100, 16]
    ds.RedPaletteColorLookupTableData = (entries * 16).astype('<u2').tobytes()
    ds.GreenPaletteColorLookupTableData = (65535 - entries * 16).astype('<u2').tobytes()
    ds.BluePaletteColorLookupTableData = ((entries * 977) % 65536).astype('<u2').tobytes()
    for tag in (0x00281201, 0x00281202, 0x00281203):
        ds[tag].VR = 'OW'
    values = ((np.arange(40 * 40) * 3) % 4300).astype('<u2').reshape(40, 40)
    names.append(save(ds, out_dir, 'palette16.dcm', values))

    # Signed 12-bit values in 16 bits, rescale, two windows (the first applies), SIGMOID.
    ds = new_dataset(30, 50)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
    ds.RescaleSlope, ds.RescaleIntercept = 2, -100
    ds.WindowCenter, ds.WindowWidth = [300, 0], [1500, 100]
    ds.VOILUTFunction = 'SIGMOID'
    values = (((np.arange(30 * 50) * 11) % 4096) - 2048).astype(np.int16)
    # Stored with the bits above High Bit set the other way from the sign, which a reader must ignore.
    words = (values.astype(np.uint16) & 0x0FFF) | np.where(values < 0, 0x0000, 0xF000).astype(np.uint16)
    names.append(save(ds, out_dir, 'signed12.dcm', words.astype('<u2').reshape(30, 50)))

    # A Modality LUT Sequence (non-linear, US data as written by explicit VR), no rescale, no window.
    ds = new_dataset(32, 64)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 10, 9, 0
    item = Dataset()
    item.LUTDescriptor = [900, 50, 16]
    item.ModalityLUTType = 'OD'
    item.LUTData = [int((i * i) // 20) % 65536 for i in range(900)]
    item['LUTData'].VR = 'US'
    ds.ModalityLUTSequence = Sequence([item])
    values = ((np.arange(32 * 64) * 7) % 1024).astype('<u2').reshape(32, 64)  # below 50 and above 949 too
    names.append(save(ds, out_dir, 'modality_lut.dcm', values))

    # A VOI LUT Sequence with OW data (bulk), 12-bit entries, 3000 of them from value 500; no window.
    ds = new_dataset(40, 60)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    item = Dataset()
    item.LUTDescriptor = [3000, 500, 12]
    curve = np.round(4095 / (1 + np.exp(-(np.arange(3000) - 1500) / 300))).astype('<u2')
    item.LUTData = curve.tobytes()
    item['LUTData'].VR = 'OW'
    item.LUTExplanation = 'SOFT'
    ds.VOILUTSequence = Sequence([item])
    values = ((np.arange(40 * 60) * 13) % 4096).astype('<u2').reshape(40, 60)
    names.append(save(ds, out_dir, 'voi_lut.dcm', values))

    # The same with a window as well: the window applies (the VOI LUT is the alternative).
    ds.WindowCenter, ds.WindowWidth = 2000, 1000
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    names.append(save(ds, out_dir, 'voi_lut_and_window.dcm', values))
    print(json.dumps(names))


if __name__ == '__main__':
    if sys.argv[1] == 'synth':
        synth(sys.argv[2])
    elif sys.argv[1] == 'expect':
        expect(sys.argv[2], int(sys.argv[3]), sys.argv[4:7] if len(sys.argv) > 4 else None)
    else:
        raise SystemExit(__doc__)
