/**
 * The parser against pydicom 2.3, an independent reader (test/support/pydicomJson.py):
 * the DICOM JSON of every sample both can read, the bytes at every bulk data
 * range, and the bytes of every frame (native slices, or pydicom's
 * generate_pixel_data_frame for encapsulated data).
 *
 * Documented differences, normalised in pydicom's output before comparing:
 * 1. pydicom keeps group length elements (gggg,0000); we leave them out
 *    (they describe the encoding, not the dataset; Orthanc drops them too).
 * 2. pydicom writes an empty sequence as "Value": []; we write no Value
 *    (PS3.18 F.2.5: an empty attribute has no Value).
 * 3. pydicom writes an empty value of a multi-valued element as '' or None;
 *    we write null (PS3.18 F.2.5).
 * 4. pydicom strips padding only at the end of the whole element
 *    ('DERIVED \PRIMARY' → 'DERIVED '); we strip trailing spaces of each value,
 *    and leading spaces where PS3.5 6.2 calls them insignificant.
 * 5. pydicom looks explicit-UN private elements up in its private dictionary
 *    (e.g. AGFA (0019,1010) → SH); we have no private dictionary, so they stay
 *    UN bulk data (PS3.5 6.2.2).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { locateBulk } from '../../../main/dicom/locateBulk.js';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { readPart10 } from '../../../main/dicom/readPart10.js';
import type { DicomJsonDataset, DicomJsonElement, DicomJsonValue } from '../../../main/dicom/types.js';
import { havePydicomSamples, pydicomSampleFiles } from '../../support/samples.js';
import { havePydicom, pydicomView, type PydicomView } from './pydicomOracle.js';

/** Samples we refuse (see parseInstance.samples.test.ts) or pydicom cannot read: nothing to compare. */
const NOT_COMPARED = new Set([
  'MR_truncated.dcm', // we refuse: truncated (pydicom reads a short Pixel Data)
  'rtplan_truncated.dcm', // we refuse: truncated (pydicom keeps what it read)
  'no_meta.dcm', // we refuse: not DICOM (pydicom reads one bogus element)
  'badVR.dcm', // pydicom fails: IS '1A'
]);

const TRIM_LEADING = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'SH', 'TM', 'UI']);
const NO_SPLIT = new Set(['LT', 'ST', 'UT', 'UR']);

function normaliseValue(vr: string, v: DicomJsonValue): DicomJsonValue {
  if (v === '' || v === null || v === undefined) return null; // difference 3
  if (typeof v === 'string' && !NO_SPLIT.has(vr)) {
    const trimmed = v.replace(/ +$/, ''); // difference 4
    return TRIM_LEADING.has(vr) ? trimmed.replace(/^ +/, '') : trimmed;
  }
  return v;
}

function normalise(dataset: DicomJsonDataset, prefix: string): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const [key, element] of Object.entries(dataset)) {
    if (key.endsWith('0000')) continue; // difference 1
    const e: DicomJsonElement = { ...element };
    if (e.vr === 'SQ') {
      const items = (e.Value ?? []).map((item, i) => normalise(item as DicomJsonDataset, `${prefix}${key}/${i}/`));
      if (items.length > 0) e.Value = items;
      else delete e.Value; // difference 2
    } else if (e.Value) {
      e.Value = e.Value.map((v) => normaliseValue(e.vr, v));
    }
    out[key] = e;
  }
  return out;
}

/** Difference 5: private, not a creator, UN in our reading, something else in pydicom's. */
function acceptPrivateUn(ours: DicomJsonDataset, theirs: DicomJsonDataset, prefix: string): void {
  for (const [key, element] of Object.entries(ours)) {
    const group = parseInt(key.slice(0, 4), 16);
    const block = parseInt(key.slice(4, 6), 16);
    const other = theirs[key];
    if (!other) continue;
    if (element.vr === 'SQ' && other.vr === 'SQ') {
      element.Value?.forEach((item, i) => acceptPrivateUn(item as DicomJsonDataset, other.Value?.[i] as DicomJsonDataset, `${prefix}${key}/${i}/`));
    } else if (group % 2 === 1 && block >= 0x10 && element.vr === 'UN' && other.vr !== 'UN') {
      theirs[key] = { vr: 'UN', BulkDataURI: `@INSTANCE@/bulk/${prefix}${key}` };
    }
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe.skipIf(!havePydicomSamples || !havePydicom)('the parser against pydicom', () => {
  const files = pydicomSampleFiles().filter((f) => !NOT_COMPARED.has(basename(f)));
  let views: Record<string, PydicomView>;
  beforeAll(() => {
    views = pydicomView(files);
  });

  it('compares every sample but the four listed (charset files, SR, RT, private sequences, big endian, implicit)', () => {
    for (const name of ['chrH31.dcm', 'chrI2.dcm', 'chrX2.dcm', 'chrSQEncoding.dcm', 'test-SR.dcm', 'rtplan.dcm', 'nested_priv_SQ.dcm', 'MR_small_bigendian.dcm', 'MR_small_implicit.dcm']) {
      expect(files.map((f) => basename(f))).toContain(name);
    }
    expect(files.length).toBe(pydicomSampleFiles().length - NOT_COMPARED.size);
  });

  for (const file of files) {
    const name = basename(file);

    it(`${name}: the DICOM JSON equals pydicom's`, () => {
      const view = views[file];
      expect(view.error).toBeUndefined();
      const ours = readPart10(readFileSync(file)).reading.dataset;
      const theirs = normalise(view.dataset!, '');
      acceptPrivateUn(ours, theirs, '');
      expect(ours).toEqual(theirs);
    });

    it(`${name}: the bytes at each bulk data range are pydicom's value`, () => {
      const view = views[file];
      const { bytes, bulk } = locateBulk(readFileSync(file));
      for (const [path, digest] of Object.entries(view.bulk!)) {
        const range = bulk[path];
        expect(range, path).toBeDefined();
        expect({ path, length: range.length, md5: md5(bytes.subarray(range.offset, range.offset + range.length)) }).toEqual({ path, ...digest });
      }
    });

    if (name !== 'nested_priv_SQ.dcm' && name !== 'meta_missing_tsyntax.dcm') {
      it(`${name}: the frames cut at our ranges are pydicom's frames`, () => {
        const view = views[file];
        const { bytes, pixel } = locateBulk(readFileSync(file));
        if (!view.frames) {
          expect(pixel).toBeUndefined();
          return;
        }
        expect(pixel).toBeDefined();
        const frames = pixel!.encapsulated
          ? pixel!.frames!.map((fragments) => Buffer.concat(fragments.map((f) => bytes.subarray(f.offset, f.offset + f.length))))
          : Array.from({ length: pixel!.numberOfFrames }, (_, i) => bytes.subarray(pixel!.value!.offset + i * pixel!.frameLength!, pixel!.value!.offset + (i + 1) * pixel!.frameLength!));
        expect(frames.map((f) => ({ length: f.length, md5: md5(f) }))).toEqual(view.frames);
      });
    }
  }

  it('parseInstance gives the same dataset, ranges and layout as the reader behind locateBulk (not deflated)', () => {
    for (const file of files) {
      const bytes = readFileSync(file);
      let parsed;
      try {
        parsed = parseInstance(bytes);
      } catch {
        continue; // no UIDs: covered by the JSON comparison above
      }
      if (parsed.deflated) continue;
      const located = locateBulk(bytes);
      expect(parsed.bulk).toEqual(located.bulk);
      expect(parsed.pixel).toEqual(located.pixel);
    }
  });
});
