/**
 * parseInstanceOfChunks (a STOW-RS part kept as the pieces it arrived in) and
 * the reading of a file's first bytes it relies on (parseInstance with
 * `fileLength`): the reading of a head either fails or gives exactly what the
 * whole file gives, and the pieces give what the joined file gives.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInstance, parseInstanceOfChunks } from '../../../main/dicom/parseInstance.js';
import { HeadTooShort } from '../../../main/dicom/readDataset.js';
import type { ParsedInstance } from '../../../main/dicom/types.js';
import { havePydicomSamples, pydicomSampleFiles } from '../../support/samples.js';
import { synthInstance, synthUid } from '../../support/synth.js';

function outcome(parse: () => ParsedInstance): ParsedInstance | { error: string } {
  try {
    return parse();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function cut(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

/** A 512x512 16-bit image (~513 KB): its attributes fit in the first few KB, its pixel data is the last element. */
const big = synthInstance({
  patientID: 'CHUNKS',
  patientName: 'PIECES^OF',
  studyInstanceUID: synthUid('chunks-study', 1),
  seriesInstanceUID: synthUid('chunks-series', 1),
  sopInstanceUID: synthUid('chunks-instance', 1, 1),
  instanceNumber: 1,
  rows: 512,
  columns: 512,
});

/** `bytes` followed by a Data Set Trailing Padding element (FFFC,FFFC) OB, explicit VR little endian. */
function withTrailingPadding(bytes: Buffer): Buffer {
  const header = Buffer.from([0xfc, 0xff, 0xfc, 0xff, 0x4f, 0x42, 0, 0, 4, 0, 0, 0]);
  return Buffer.concat([bytes, header, Buffer.alloc(4)]);
}

describe('parseInstance of the first bytes of a file (fileLength)', () => {
  it('reads the attributes of a big image from its first 32 KiB, pixel data located but not read', () => {
    const whole = parseInstance(big);
    expect(whole.pixel?.value?.offset).toBeLessThan(4096);
    expect(parseInstance(big.subarray(0, 32 * 1024), big.length)).toEqual(whole);
    // The head may end anywhere in the pixel data, or right where its value starts.
    const valueAt = whole.pixel!.value!.offset;
    expect(parseInstance(big.subarray(0, valueAt), big.length)).toEqual(whole);
  });

  it('needs the whole file when a head ends inside an attribute, or when an element follows the pixel data', () => {
    const valueAt = parseInstance(big).pixel!.value!.offset;
    expect(() => parseInstance(big.subarray(0, 600), big.length)).toThrow(HeadTooShort);
    expect(() => parseInstance(big.subarray(0, valueAt - 1), big.length)).toThrow(HeadTooShort);
    const padded = withTrailingPadding(big);
    expect(() => parseInstance(padded.subarray(0, 32 * 1024), padded.length)).toThrow(HeadTooShort);
    expect(parseInstance(padded).bulk).toHaveProperty('FFFCFFFC');
  });

  describe.skipIf(!havePydicomSamples)('for every pydicom sample, a head cut anywhere fails or gives what the whole file gives', () => {
    for (const file of pydicomSampleFiles()) {
      it(basename(file), () => {
        const bytes = readFileSync(file);
        const whole = outcome(() => parseInstance(bytes));
        const step = Math.max(1, Math.floor(bytes.length / 48));
        const cuts = new Set<number>();
        for (let at = 0; at < bytes.length; at += step) cuts.add(at);
        // Around the pixel data value's start, where the head reading stops mattering.
        const valueAt = 'pixel' in whole ? whole.pixel?.value?.offset ?? whole.pixel?.frames?.[0]?.[0]?.offset : undefined;
        if (valueAt !== undefined) for (let at = valueAt - 16; at <= valueAt + 16; at++) if (at > 0 && at < bytes.length) cuts.add(at);
        let headReadings = 0;
        for (const at of cuts) {
          const fromHead = outcome(() => parseInstance(bytes.subarray(0, at), bytes.length));
          if ('error' in fromHead) continue;
          headReadings++;
          expect(fromHead, `head of ${at} bytes`).toEqual(whole);
        }
        if ('error' in whole) expect(headReadings).toBe(0);
      });
    }
  });
});

describe('parseInstanceOfChunks', () => {
  it('gives what parseInstance of the joined file gives, whatever the pieces', () => {
    const padded = withTrailingPadding(big);
    for (const bytes of [big, padded, big.subarray(0, big.length - 10)]) {
      const whole = outcome(() => parseInstance(bytes));
      for (const size of [1, 7, 4096, 65536, bytes.length]) {
        const chunks = size === 1 ? [bytes.subarray(0, 1), bytes.subarray(1)] : cut(bytes, size);
        expect(outcome(() => parseInstanceOfChunks(chunks, bytes.length)), `pieces of ${size} bytes`).toEqual(whole);
      }
    }
    expect(outcome(() => parseInstanceOfChunks([], 0))).toEqual(outcome(() => parseInstance(Buffer.alloc(0))));
  });

  it.skipIf(!havePydicomSamples)('gives what parseInstance gives for every pydicom sample in pieces of 1000 bytes', () => {
    for (const file of pydicomSampleFiles()) {
      const bytes = readFileSync(file);
      expect(outcome(() => parseInstanceOfChunks(cut(bytes, 1000), bytes.length)), basename(file)).toEqual(outcome(() => parseInstance(bytes)));
    }
  });
});
