/**
 * ZIP archives for import tests, written by Python's zipfile module (an
 * independent writer), then, where a test needs damage zipfile cannot write,
 * patched at the byte level in the headers it wrote (APPNOTE 4.3.7, 4.3.12):
 * the encryption flag, a lying uncompressed size, an entry pointing at
 * another entry's data, a flipped data byte, a broken central directory record. Also answers each DICOM entry's
 * SOP Instance UID as pydicom reads it.
 */
import { execFileSync } from 'node:child_process';

export interface ZipEntrySpec {
  /** Entry name; ending in '/' makes a directory entry. */
  name: string;
  /** Content: a file on disk, a text, or nothing (empty). */
  file?: string;
  text?: string;
  /** Keep only the first bytes of the content. */
  truncate?: number;
  method?: 'stored' | 'deflated' | 'bzip2' | 'lzma';
  /** Damage: set the "encrypted" flag (bit 0) in the local and central headers. */
  encryptedFlag?: boolean;
  /** Damage: write this uncompressed size in the local and central headers. */
  declaredSize?: number;
  /** Damage: the central record points at this other entry's local header. */
  overlapWith?: string;
  /** Damage: invert the data byte at this offset (of the stored data). */
  flipByte?: number;
  /** Damage: break the signature of this entry's central directory record. */
  breakCentralRecord?: boolean;
}

const SCRIPT = String.raw`
import json, struct, sys, zipfile
import pydicom
spec = json.load(sys.stdin)
methods = {'stored': zipfile.ZIP_STORED, 'deflated': zipfile.ZIP_DEFLATED, 'bzip2': zipfile.ZIP_BZIP2, 'lzma': zipfile.ZIP_LZMA}
uids = {}
with zipfile.ZipFile(spec['out'], 'w') as z:
    for e in spec['entries']:
        info = zipfile.ZipInfo(e['name'], date_time=(2020, 1, 1, 0, 0, 0))
        if e['name'].endswith('/'):
            z.writestr(info, b'')
            continue
        if 'file' in e:
            data = open(e['file'], 'rb').read()
            try:
                assert 'truncate' not in e
                uids[e['name']] = str(pydicom.dcmread(e['file'], force=True).SOPInstanceUID)
            except Exception:
                pass
        else:
            data = e.get('text', '').encode()
        if 'truncate' in e:
            data = data[:e['truncate']]
        z.writestr(info, data, compress_type=methods[e.get('method', 'deflated')])
buf = bytearray(open(spec['out'], 'rb').read())
with zipfile.ZipFile(spec['out']) as z:
    pos = z.start_dir
    central = {}
    for _ in z.infolist():
        assert struct.unpack_from('<I', buf, pos)[0] == 0x02014b50
        n, m, k = struct.unpack_from('<HHH', buf, pos + 28)
        central[bytes(buf[pos + 46:pos + 46 + n]).decode('utf-8')] = pos
        pos += 46 + n + m + k
local = {name: struct.unpack_from('<I', buf, c + 42)[0] for name, c in central.items()}
for e in spec['entries']:
    c, l = central[e['name']], local[e['name']]
    if e.get('encryptedFlag'):
        buf[c + 8] |= 1
        buf[l + 6] |= 1
    if 'declaredSize' in e:
        struct.pack_into('<I', buf, c + 24, e['declaredSize'])
        struct.pack_into('<I', buf, l + 22, e['declaredSize'])
    if 'overlapWith' in e:
        struct.pack_into('<I', buf, c + 42, local[e['overlapWith']])
    if e.get('breakCentralRecord'):
        buf[c] ^= 0xff
    if 'flipByte' in e:
        n, m = struct.unpack_from('<HH', buf, l + 26)
        buf[l + 30 + n + m + e['flipByte']] ^= 0xff
open(spec['out'], 'wb').write(buf)
json.dump(uids, sys.stdout)
`;

/** Writes the archive at `out`; answers { entry name: SOP Instance UID } for the DICOM entries. */
export function makeZip(out: string, entries: ZipEntrySpec[]): Record<string, string> {
  const answer = execFileSync('/usr/bin/python3', ['-c', SCRIPT], { input: JSON.stringify({ out, entries }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(answer) as Record<string, string>;
}
