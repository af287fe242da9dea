#!/usr/bin/python3
"""Independent oracle for main/dicom/parseInstance.ts tests: prints, as one JSON
object per file given on the command line, what pydicom (2.3) makes of it:

  dataset  DICOM JSON (PS3.18 F.2) of the dataset without File Meta, from
           pydicom's own DataElement.to_json_dict, with every non-empty binary
           element as BulkDataURI '@INSTANCE@/bulk/<path>' where path is
           GGGGEEEE at top level and SEQTAG/itemIndex/GGGGEEEE when nested
           (pydicom's handler is not told the path, so sequences are walked here);
  bulk     {path: {length, md5}} of each such element's value bytes (as stored);
  frames   [{length, md5}] of each frame of Pixel Data (native slices, or
           pydicom.encaps.generate_pixel_data_frame for encapsulated data);
  error    pydicom's exception message when it cannot read the file.

Usage: pydicomJson.py FILE...   (output: {"FILE": {...}, ...})
"""
import hashlib
import json
import sys
import warnings

import pydicom
from pydicom.encaps import generate_pixel_data_frame

warnings.simplefilter('ignore')

BULK = '@INSTANCE@/bulk/'


def digest(data):
    return {'length': len(data), 'md5': hashlib.md5(data).hexdigest()}


def to_json(ds, prefix, bulk):
    out = {}
    for key in ds.keys():
        elem = ds[key]
        tag = '{:08X}'.format(key)
        if elem.VR == 'SQ':
            out[tag] = {'vr': 'SQ', 'Value': [
                to_json(item, f'{prefix}{tag}/{i}/', bulk) for i, item in enumerate(elem.value)]}
            continue

        def handler(e, path=prefix + tag):
            bulk[path] = digest(e.value)
            return BULK + path
        out[tag] = elem.to_json_dict(handler, 0)
    return out


def frames(ds):
    if 'PixelData' not in ds:
        return None
    n = int(ds.get('NumberOfFrames', 1) or 1)
    data = ds.PixelData
    if ds['PixelData'].is_undefined_length:
        return [digest(f) for f in generate_pixel_data_frame(data, n)]
    bits = ds.BitsAllocated * ds.Rows * ds.Columns * ds.SamplesPerPixel
    length = (bits + 7) // 8
    return [digest(data[i * length:(i + 1) * length]) for i in range(n)]


def describe(path):
    try:
        ds = pydicom.dcmread(path, force=True)
        bulk = {}
        dataset = to_json(ds, '', bulk)
        result = {'dataset': dataset, 'bulk': bulk}
        try:
            result['frames'] = frames(ds)
        except Exception as exc:  # pixel description incomplete
            result['framesError'] = f'{type(exc).__name__}: {exc}'
        return result
    except Exception as exc:
        return {'error': f'{type(exc).__name__}: {exc}'}


print(json.dumps({path: describe(path) for path in sys.argv[1:]}))
