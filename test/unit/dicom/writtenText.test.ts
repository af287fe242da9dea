/**
 * ParsedInstance.writtenText: the text as written of top-level DS, IS and PN
 * values (what DICOM JSON numbers and person name objects lose, PS3.18 F.2),
 * checked against the raw bytes pydicom finds for each element: DS/IS values
 * with the spaces around them removed (PS3.5 6.2), PN groups decoded by pydicom
 * in the Specific Character Set with every '=' group kept (PS3.5 6.2.1).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import type { ParsedInstance } from '../../../main/dicom/types.js';
import { elementString } from '../../../main/store/dicomValues.js';
import { mainTagsOf } from '../../../main/store/orthancMainTags.js';
import { havePydicomSamples, pydicomSampleFiles, sample } from '../../support/samples.js';
import { havePydicom } from './pydicomOracle.js';

/** For each file: 8-hex tag -> the text as written of its top-level DS, IS, PN elements with a value, per pydicom. */
function pydicomWrittenText(files: string[]): Record<string, Record<string, string> | { error: string }> {
  const script = `
import json, sys, warnings, pydicom
from pydicom.charset import convert_encodings, decode_bytes
warnings.simplefilter('ignore')
out = {}
for path in sys.argv[1:]:
    try:
        ds = pydicom.dcmread(path)
        charset = ds.get('SpecificCharacterSet') or 'ISO_IR 6'
        encodings = convert_encodings([charset] if isinstance(charset, str) else list(charset))
        res = {}
        for tag in list(ds.keys()):
            raw = ds.get_item(tag).value
            if not isinstance(raw, bytes):
                continue
            vr = ds.get_item(tag).VR
            if vr in (None, 'UN'):
                vr = ds[tag].VR  # implicit VR, or explicit UN of a known tag (CP-246): the dictionary's VR
            if vr not in ('DS', 'IS', 'PN'):
                continue
            raw = raw.rstrip(b' \\x00')
            if raw.strip(b' \\\\') == b'':
                continue
            if vr == 'PN':
                text = '\\\\'.join('='.join(decode_bytes(g, encodings, {0x5e}) for g in v.split(b'=')) for v in raw.split(b'\\\\'))
            else:
                text = '\\\\'.join(v.decode('latin1').strip(' \\x00') for v in raw.split(b'\\\\'))
            res['%08X' % tag] = text
        out[path] = res
    except Exception as e:
        out[path] = {'error': repr(e)}
print(json.dumps(out))
`;
  const out = execFileSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as Record<string, Record<string, string> | { error: string }>;
}

function parsed(path: string): ParsedInstance | undefined {
  try {
    return parseInstance(readFileSync(path));
  } catch {
    return undefined; // refused files are parseInstance.samples.test.ts's business
  }
}

describe.skipIf(!havePydicomSamples || !havePydicom)('the text as written of DS, IS and PN values', () => {
  const dir = mkdtempSync(join(tmpdir(), 'written-text-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('matches the bytes pydicom finds for every top-level DS, IS and PN element of every sample', () => {
    const files = pydicomSampleFiles();
    const oracle = pydicomWrittenText(files);
    let compared = 0;
    let differsFromJson = 0;
    for (const path of files) {
      const ours = parsed(path);
      const theirs = oracle[path]!;
      if (!ours || 'error' in theirs) continue;
      expect(ours.writtenText, basename(path)).toEqual(theirs);
      compared++;
      if (Object.entries(ours.writtenText!).some(([tag, text]) => text !== elementString(ours.dataset[tag]))) differsFromJson++;
    }
    expect(compared).toBeGreaterThan(60);
    expect(differsFromJson).toBeGreaterThan(30); // "1.000000", "Wang^XiaoDong=王^小東=": text the JSON does not have
  });

  it('keeps nested DS, IS and PN values out (they are not main tags)', () => {
    const ours = parsed(sample('rtplan.dcm'))!;
    expect(Object.values(ours.dataset).some((el) => el.vr === 'SQ')).toBe(true);
    for (const tag of Object.keys(ours.writtenText!)) expect(['DS', 'IS', 'PN'], tag).toContain(ours.dataset[tag]!.vr);
  });

  it('is kept for deflated files too, so their Orthanc main tags are those of the same file not deflated', () => {
    const plain = sample('CT_small.dcm');
    const deflated = join(dir, 'CT_small_deflated.dcm');
    execFileSync('/usr/bin/python3', [
      '-c',
      `import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
ds.save_as(sys.argv[2])`,
      plain,
      deflated,
    ]);
    const a = parsed(plain)!;
    const b = parsed(deflated)!;
    expect(b.deflated).toBe(true);
    expect(b.writtenText).toEqual(a.writtenText);
    expect(b.writtenText!['00200037']).toBe('1.000000\\0.000000\\0.000000\\0.000000\\1.000000\\0.000000'); // ImageOrientationPatient
    for (const level of ['Patient', 'Study', 'Series', 'Instance'] as const) expect(mainTagsOf(level, b.dataset, b.writtenText)).toEqual(mainTagsOf(level, a.dataset, a.writtenText));
  });
});
