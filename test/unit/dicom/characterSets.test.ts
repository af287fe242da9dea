/**
 * Specific Character Set decoding (PS3.3 C.12.1.1.2, PS3.5 6.1): text encoded
 * by Python's codecs (an independent encoder) decodes back to the same text,
 * including ISO 2022 cases the charset sample files do not cover: JIS X 0212,
 * two-byte characters whose bytes look like delimiters (= ^ \), G1 sets
 * switched inside a value and reset at delimiters.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { characterSetDecoding } from '../../../main/dicom/characterSets.js';
import { stringValues } from '../../../main/dicom/elementValues.js';
import { havePydicom } from './pydicomOracle.js';

const ESC = '\x1b';

/**
 * Bytes made by Python: each part is [text, codec] (a Python codec name, or
 * 'raw' for latin-1 bytes such as escape sequences and delimiters).
 */
function encode(parts: Array<[string, string]>): Buffer {
  const script = 'import json,sys\nparts=json.load(sys.stdin)\nsys.stdout.write(b"".join(t.encode("latin-1" if c=="raw" else c) for t,c in parts).hex())';
  return Buffer.from(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(parts), encoding: 'utf8' }), 'hex');
}

function decode(bytes: Buffer, charset: string[], vr: string) {
  return stringValues(bytes, 0, bytes.length, vr, characterSetDecoding(charset));
}

describe.skipIf(!havePydicom)('character sets', () => {
  it('JIS X 0208 characters whose bytes are = ^ \\ do not split a person name (ISO 2022 IR 87)', () => {
    // 予 is 4D 3D, 五 is 38 5E, 俑 is 50 5C in JIS X 0208.
    const bytes = encode([
      ['Yamada^Taro=', 'raw'],
      ['予五', 'iso2022_jp'],
      ['^', 'raw'],
      ['俑', 'iso2022_jp'],
    ]);
    expect(bytes.includes(Buffer.from([0x4d, 0x3d]))).toBe(true);
    expect(decode(bytes, ['', 'ISO 2022 IR 87'], 'PN')).toEqual([{ Alphabetic: 'Yamada^Taro', Ideographic: '予五^俑' }]);
  });

  it('a JIS X 0208 character holding a backslash byte does not split a multi-valued LO', () => {
    const bytes = encode([
      ['俑', 'iso2022_jp'],
      ['\\B', 'raw'],
    ]);
    expect(decode(bytes, ['', 'ISO 2022 IR 87'], 'LO')).toEqual(['俑', 'B']);
  });

  it('JIS X 0212 (ESC $ ( D, ISO 2022 IR 159) decodes', () => {
    const bytes = encode([['丂 and 丂', 'iso2022_jp_2']]);
    expect(bytes.includes(Buffer.from(`${ESC}$(D`, 'latin1'))).toBe(true);
    expect(decode(bytes, ['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], 'LO')).toEqual(['丂 and 丂']);
  });

  it('Korean in G1 (ESC $ ) C, ISO 2022 IR 149) decodes, and ASCII around it stays ASCII', () => {
    const bytes = encode([
      ['Hong^Gildong=', 'raw'],
      [`${ESC}$)C`, 'raw'],
      ['洪', 'euc_kr'],
      ['^', 'raw'],
      [`${ESC}$)C`, 'raw'],
      ['吉洞', 'euc_kr'],
    ]);
    expect(decode(bytes, ['', 'ISO 2022 IR 149'], 'PN')).toEqual([{ Alphabetic: 'Hong^Gildong', Ideographic: '洪^吉洞' }]);
  });

  it('Simplified Chinese in G1 (ESC $ ) A, ISO 2022 IR 58) decodes', () => {
    const bytes = encode([
      ['Wang^XiaoDong=', 'raw'],
      [`${ESC}$)A`, 'raw'],
      ['王', 'gb2312'],
      ['^', 'raw'],
      [`${ESC}$)A`, 'raw'], // designated again after the delimiter (PS3.5 Annex K example)
      ['小东', 'gb2312'],
    ]);
    expect(decode(bytes, ['', 'ISO 2022 IR 58'], 'PN')).toEqual([{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小东' }]);
  });

  it('a G1 set switched by escape applies until a delimiter, then value 1 applies again', () => {
    // Value 1 Latin-1 in G1; ESC - F (Greek) for the first component only.
    const bytes = encode([
      [`${ESC}-F`, 'raw'],
      ['Διονυσιος', 'iso8859_7'],
      ['^', 'raw'],
      ['Jérôme', 'latin-1'],
    ]);
    expect(decode(bytes, ['ISO 2022 IR 100', 'ISO 2022 IR 126'], 'PN')).toEqual([{ Alphabetic: 'Διονυσιος^Jérôme' }]);
  });

  it('GBK characters whose second byte is a backslash do not split a multi-valued LO', () => {
    const bytes = encode([['乗\\乗', 'gbk']]);
    expect(bytes.length).toBe(5); // 81 5C 5C 81 5C
    expect(decode(bytes, ['GBK'], 'LO')).toEqual(['乗', '乗']);
    expect(decode(bytes, ['GB18030'], 'LO')).toEqual(['乗', '乗']);
  });

  it('single-byte sets decode by their defined terms', () => {
    const cases: Array<[string, string, string]> = [
      ['ISO_IR 100', 'latin-1', 'Äneas^Rüdiger'],
      ['ISO_IR 101', 'iso8859_2', 'Łódź^Žofie'],
      ['ISO_IR 109', 'iso8859_3', 'Ħal Għargħur'],
      ['ISO_IR 110', 'iso8859_4', 'Ķēniņš'],
      ['ISO_IR 144', 'iso8859_5', 'Люкcембург'],
      ['ISO_IR 127', 'iso8859_6', 'قباني^لنزار'],
      ['ISO_IR 126', 'iso8859_7', 'Διονυσιος'],
      ['ISO_IR 138', 'iso8859_8', 'שרון^דבורה'],
      ['ISO_IR 148', 'iso8859_9', 'Şişli^Ağaç'],
      ['ISO_IR 166', 'tis_620', 'สมชาย'],
      ['ISO_IR 203', 'iso8859_15', 'Œuvre €'],
      ['ISO_IR 13', 'shift_jis', 'ﾔﾏﾀﾞ^ﾀﾛｳ'],
      ['ISO_IR 192', 'utf-8', 'Wang^XiaoDong=王^小東'],
      ['GB18030', 'gb18030', 'Wang^XiaoDong=王^小东'],
    ];
    for (const [term, codec, text] of cases) {
      const bytes = encode([[text, codec]]);
      const [alphabetic, ideographic] = text.split('=');
      expect(decode(bytes, [term], 'PN'), term).toEqual([ideographic ? { Alphabetic: alphabetic, Ideographic: ideographic } : { Alphabetic: alphabetic }]);
    }
  });

  it('misspelled terms are understood and unknown ones fall back to ISO 8859-1', () => {
    const bytes = encode([['Jérôme', 'latin-1']]);
    expect(decode(bytes, ['ISO IR 100'], 'LO')).toEqual(['Jérôme']);
    expect(decode(bytes, ['ISO-IR 100'], 'LO')).toEqual(['Jérôme']);
    expect(decode(bytes, ['NO SUCH SET'], 'LO')).toEqual(['Jérôme']);
  });

  it('VRs outside the character set rules are read in the default repertoire', () => {
    const bytes = Buffer.from(' CT \\MR ', 'latin1');
    expect(decode(bytes, ['ISO_IR 192'], 'CS')).toEqual(['CT', 'MR']);
  });

  it('text VRs keep backslashes and leading spaces, drop trailing spaces', () => {
    const bytes = encode([['  line one\\still one\r\nline two  ', 'utf-8']]);
    expect(decode(bytes, ['ISO_IR 192'], 'LT')).toEqual(['  line one\\still one\r\nline two']);
  });
});
