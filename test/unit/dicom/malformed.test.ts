/**
 * Bytes that are not (whole) DICOM: empty, garbage, truncated anywhere,
 * corrupted anywhere, absurdly nested. Each is refused with a 'bad-dicom'
 * AppError, or parsed when what is left is still a consistent instance;
 * never another exception, never a hang.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { havePydicomSamples, sample } from '../../support/samples.js';
import { synthInstance } from '../../support/synth.js';

/** The error parseInstance throws, or undefined when it parses. Anything but an AppError fails the test. */
function outcome(bytes: Buffer): AppError | undefined {
  try {
    parseInstance(bytes);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const instance = synthInstance({
  patientID: 'P1',
  patientName: 'Doe^Jane',
  studyInstanceUID: '1.2.3',
  seriesInstanceUID: '1.2.3.4',
  sopInstanceUID: '1.2.3.4.5',
  extra: {
    '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3.4'] }, '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3.4.6'] } }] } }] }, // ReferencedSeriesSequence
  },
});

/** Explicit VR little endian element bytes. */
function element(group: number, el: number, vr: string, value: Buffer, undefinedLength = false): Buffer {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(el, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(undefinedLength ? 0xffffffff : value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function item(content: Buffer, undefinedLength = false): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0xe000fffe, 0);
  header.writeUInt32LE(undefinedLength ? 0xffffffff : content.length, 4);
  const delimiter = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat(undefinedLength ? [header, content, delimiter] : [header, content]);
}

const SEQUENCE_DELIMITER = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** A Part-10 file around `dataset` (explicit VR little endian). */
function part10(dataset: Buffer): Buffer {
  const ts = element(0x0002, 0x0010, 'UI', Buffer.from('1.2.840.10008.1.2.1\0', 'latin1'));
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), ts, dataset]);
}

describe('bytes that are not a readable DICOM instance', () => {
  it('an empty buffer is refused as empty', () => {
    expect(outcome(Buffer.alloc(0))?.message).toBe('not a DICOM file: it is empty (0 bytes)');
  });

  it('text and random bytes are refused as not DICOM', () => {
    expect(outcome(Buffer.from('hello, world: this is not a DICOM file at all, just text'))?.message).toBe("not a DICOM file: no 'DICM' prefix and no recognizable dataset");
    const next = random(1);
    for (const size of [1, 7, 8, 131, 132, 1000, 20000]) {
      const bytes = Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256)));
      expect(outcome(bytes)?.kind, `size ${size}`).toBe('bad-dicom');
    }
  });

  it('a preamble and DICM with nothing after them is refused', () => {
    const bytes = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')]);
    expect(outcome(bytes)?.message).toBe('no dataset after the File Meta Information');
  });

  it('the synthetic instance cut at every length is refused as truncated or still parses', () => {
    let refused = 0;
    for (let length = 1; length < instance.length; length++) {
      const err = outcome(instance.subarray(0, length));
      if (err) {
        expect(err.kind).toBe('bad-dicom');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(instance.length * 0.9);
  });

  it('a cut inside Pixel Data names the offset and the element', () => {
    expect(outcome(instance.subarray(0, instance.length - 100))?.message).toMatch(/^truncated at offset \d+ while reading \(7FE0,0010\): its value of 8192 bytes starts at offset \d+, only 8092 bytes remain$/);
  });

  it('the synthetic instance with bytes corrupted anywhere is refused as bad-dicom or parses', () => {
    const next = random(2);
    const headerEnd = instance.length - 64 * 64 * 2; // corrupt headers, not pixel values
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(instance);
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--) bytes[Math.floor(next() * headerEnd)] = Math.floor(next() * 256);
      const err = outcome(bytes);
      if (err) expect(err.kind).toBe('bad-dicom');
    }
  });

  it.skipIf(!havePydicomSamples)('real samples cut and corrupted are refused as bad-dicom or parse', () => {
    const next = random(3);
    for (const name of ['CT_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'test-SR.dcm', 'rtplan.dcm', 'SC_rgb_rle_2frame.dcm', 'chrH32.dcm', 'image_dfl.dcm', 'JPEG2000.dcm']) {
      const file = readFileSync(sample(name));
      for (let round = 0; round < 300; round++) {
        const bytes = Buffer.from(file.subarray(0, 1 + Math.floor(next() * file.length)));
        for (let n = Math.floor(next() * 3); n > 0; n--) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
        const err = outcome(bytes);
        if (err) expect(err.kind, name).toBe('bad-dicom');
      }
    }
  });

  it('a sequence of undefined length that never ends is refused as truncated', () => {
    const open = Buffer.concat([element(0x0008, 0x1115, 'SQ', Buffer.alloc(0), true), item(element(0x0008, 0x1155, 'UI', Buffer.from('1.2\0', 'latin1')), true)]);
    expect(outcome(part10(open))?.message).toMatch(/^truncated at offset \d+ while reading sequence \(0008,1115\): no Sequence Delimitation Item \(FFFE,E0DD\)$/);
  });

  it('an item that claims more bytes than its sequence holds is refused', () => {
    const inner = element(0x0008, 0x1155, 'UI', Buffer.from('1.2\0', 'latin1'));
    const badItem = Buffer.concat([item(inner).subarray(0, 4), Buffer.from([0xff, 0x00, 0x00, 0x00]), inner]);
    const seq = element(0x0008, 0x1115, 'SQ', badItem);
    const dataset = Buffer.concat([seq, element(0x0010, 0x0010, 'PN', Buffer.from('A^B ', 'latin1'))]);
    expect(outcome(part10(dataset))?.message).toMatch(/^an item of \(0008,1115\) at offset \d+ declares 255 bytes, past the end of its sequence at offset \d+$/);
  });

  it('a sequence whose content is not items is refused naming the tag found', () => {
    const seq = element(0x0008, 0x1115, 'SQ', element(0x0008, 0x1155, 'UI', Buffer.from('1.2\0', 'latin1')));
    expect(outcome(part10(seq))?.message).toMatch(/^expected an Item \(FFFE,E000\) at offset \d+ in sequence \(0008,1115\), found \(0008,1155\)$/);
  });

  it('sequences nested 100 deep are refused, not a stack overflow', () => {
    let inner = element(0x0008, 0x1155, 'UI', Buffer.from('1.2\0', 'latin1'));
    for (let i = 0; i < 100; i++) inner = Buffer.concat([element(0x0008, 0x1115, 'SQ', Buffer.alloc(0), true), item(inner, true), SEQUENCE_DELIMITER]);
    expect(outcome(part10(inner))?.message).toMatch(/^sequences nested deeper than 64 levels at \(0008,1115\)/);
  });

  it('an element declaring nearly 4 GiB is refused as truncated', () => {
    const huge = Buffer.concat([element(0x0010, 0x0010, 'PN', Buffer.from('A^B ', 'latin1')), element(0x7fe0, 0x0010, 'OW', Buffer.alloc(16))]);
    huge.writeUInt32LE(0xfffffff0, 12 + 8);
    expect(outcome(part10(huge))?.message).toMatch(/^truncated at offset \d+ while reading \(7FE0,0010\): its value of 4294967280 bytes/);
  });

  it('a deflated file whose data does not inflate is refused', () => {
    const ts = element(0x0002, 0x0010, 'UI', Buffer.from('1.2.840.10008.1.2.1.99', 'latin1'));
    const bytes = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), ts, Buffer.from('definitely not deflate data')]);
    expect(outcome(bytes)?.message).toMatch(/^deflated dataset at offset 162 cannot be inflated: /);
  });
});
