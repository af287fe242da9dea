/**
 * Specific Character Set (0008,0005) → UTF-8 text, for the VRs that use it
 * (SH, LO, ST, LT, UC, UT, PN). PS3.3 C.12.1.1.2 (defined terms, Tables
 * C.12-2..C.12-5) and PS3.5 6.1 (repertoires, ISO 2022 code extensions).
 *
 * Single character sets are decoded by Node's TextDecoder (full ICU: ISO 8859-x,
 * Shift_JIS, EUC-JP, EUC-KR, GBK, GB18030, UTF-8). ISO 2022 code extension
 * switching is done by hand here: no maintained JS library implements DICOM's
 * subset (G0/G1 designation by escape sequence, JIS X 0208/0212 in G0, KS X
 * 1001 and GB 2312 in G1, reset of the initial sets at delimiters, PS3.5
 * 6.1.2.5.3). Each run of bytes in one designated set is re-encoded to the
 * matching EUC form when needed and handed to TextDecoder.
 *
 * Unknown or misspelled terms fall back to ISO 8859-1 (like pydicom and
 * Orthanc's default), so that no text is lost; bytes above 0x7F without a
 * declared set are read as ISO 8859-1 too.
 */

/** What a VR's value may be split on, which in ISO 2022 also resets the code sets. */
export type Delimiters = 'pn' | 'multi' | 'text';

export interface TextDecoding {
  /** The (normalised) Specific Character Set values this decoding was made for. */
  readonly terms: readonly string[];
  decode(buf: Buffer, start: number, end: number, delimiters: Delimiters): string;
}

type Codec =
  | { kind: 'latin1' }
  | { kind: 'utf8' }
  | { kind: 'decoder'; label: string }
  /** JIS X 0208 / JIS X 0212 in G0 (ISO 2022 IR 87 / 159): bytes re-encoded as EUC-JP. */
  | { kind: 'jis'; plane: 0x0208 | 0x0212 };

const LATIN1: Codec = { kind: 'latin1' };

/** Single-byte sets: defined term number → TextDecoder label (PS3.3 Table C.12-2/C.12-3). */
const SINGLE_BYTE: Record<string, string> = {
  '100': 'latin1', // handled by LATIN1 (true ISO 8859-1, not windows-1252)
  '101': 'iso-8859-2',
  '109': 'iso-8859-3',
  '110': 'iso-8859-4',
  '144': 'iso-8859-5', // Cyrillic
  '127': 'iso-8859-6', // Arabic
  '126': 'iso-8859-7', // Greek
  '138': 'iso-8859-8', // Hebrew
  '148': 'iso-8859-9', // Latin alphabet No. 5 (WHATWG maps it to windows-1254: same above 0x9F)
  '203': 'iso-8859-15', // Latin alphabet No. 9
  '166': 'windows-874', // Thai, TIS 620-2533 (same above 0x9F)
  '13': 'shift_jis', // JIS X 0201: Romaji in G0, Katakana in G1
};

/** ISO 2022 escape sequence final bytes for 96-character sets designated to G1 ('ESC - F'). */
const G1_96_FINAL: Record<number, string> = {
  0x41: '100', // A
  0x42: '101', // B
  0x43: '109', // C
  0x44: '110', // D
  0x46: '126', // F
  0x47: '127', // G
  0x48: '138', // H
  0x4c: '144', // L
  0x4d: '148', // M
  0x54: '166', // T
  0x62: '203', // b
};

const decoders = new Map<string, InstanceType<typeof TextDecoder>>();
function decoderFor(label: string): InstanceType<typeof TextDecoder> {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    decoders.set(label, d);
  }
  return d;
}

function singleByteCodec(term: string): Codec {
  const label = SINGLE_BYTE[term];
  if (!label || label === 'latin1') return LATIN1;
  return { kind: 'decoder', label };
}

function decodeWith(codec: Codec, buf: Buffer, start: number, end: number): string {
  switch (codec.kind) {
    case 'latin1':
      return buf.toString('latin1', start, end);
    case 'utf8':
      return buf.toString('utf8', start, end);
    case 'decoder':
      return decoderFor(codec.label).decode(buf.subarray(start, end));
    case 'jis':
      return decoderFor('euc-jp').decode(buf.subarray(start, end));
  }
}

/** Normalises common misspellings ('ISO IR 100', 'ISO-IR 100', 'ISO_IR100', 'ISO 2022 IR100'). */
function normaliseTerm(raw: string): string {
  const t = raw.trim().toUpperCase();
  let m = /^ISO[ _-]?2022[ _-]?IR[ _-]?(\d+)$/.exec(t);
  if (m) return `ISO 2022 IR ${Number(m[1])}`;
  m = /^ISO[ _-]?IR[ _-]?(\d+)$/.exec(t);
  if (m) return `ISO_IR ${Number(m[1])}`;
  if (t === 'ISO 2022 GBK') return 'GBK';
  if (t === 'ISO 2022 58') return 'ISO 2022 IR 58';
  return t;
}

/** The G0/G1 sets in force at the start of a value (and after each delimiter). */
interface InitialSets {
  g0: Codec; // for bytes 0x00-0x7F
  g1: Codec; // for bytes 0x80-0xFF
  /** G1 holds a 94x94 two-byte set (KS X 1001, GB 2312). */
  g1Double: boolean;
}

function initialSetsOf(term: string): InitialSets {
  // Value 1 of (0008,0005) gives the initial sets (PS3.3 C.12.1.1.2).
  const m = /^(?:ISO_IR|ISO 2022 IR) (\d+)$/.exec(term);
  const n = m ? m[1] : '';
  if (n === '149') return { g0: LATIN1, g1: { kind: 'decoder', label: 'euc-kr' }, g1Double: true };
  if (n === '58') return { g0: LATIN1, g1: { kind: 'decoder', label: 'gbk' }, g1Double: true };
  if (n === '87') return { g0: LATIN1, g1: LATIN1, g1Double: false }; // not allowed as value 1: ASCII
  if (n === '13') return { g0: LATIN1, g1: singleByteCodec('13'), g1Double: false };
  return { g0: LATIN1, g1: singleByteCodec(n), g1Double: false };
}

const ESC = 0x1b;
const DELIMS_PN = new Set([0x5c, 0x5e, 0x3d, 0x0d, 0x0a, 0x09, 0x0c]); // \ ^ = CR LF TAB FF
const DELIMS_MULTI = new Set([0x5c, 0x0d, 0x0a, 0x09, 0x0c]);
const DELIMS_TEXT = new Set([0x0d, 0x0a, 0x09, 0x0c]);

/** One decoding per distinct (0008,0005) value, made once. */
const decodings = new Map<string, TextDecoding>();

export function characterSetDecoding(specificCharacterSet: readonly (string | null)[] | undefined): TextDecoding {
  const terms = (specificCharacterSet ?? []).map((t) => normaliseTerm(t ?? ''));
  const key = terms.join('\\');
  let d = decodings.get(key);
  if (!d) {
    d = makeDecoding(terms);
    decodings.set(key, d);
  }
  return d;
}

/** No (0008,0005): ISO-IR 6 (default repertoire), high bytes as ISO 8859-1. */
export const DEFAULT_DECODING: TextDecoding = characterSetDecoding([]);

function makeDecoding(terms: string[]): TextDecoding {
  const first = terms[0] ?? '';
  // Stand-alone sets (no code extensions allowed, PS3.3 C.12.1.1.2): decode the whole value.
  if (first === 'ISO_IR 192') return plain(terms, { kind: 'utf8' });
  if (first === 'GB18030') return plain(terms, { kind: 'decoder', label: 'gb18030' });
  if (first === 'GBK') return plain(terms, { kind: 'decoder', label: 'gbk' });

  const initial = initialSetsOf(first);
  const usesExtensions = terms.length > 1 || first.startsWith('ISO 2022');
  // Without escape sequences a value is all in the initial sets: G1's decoder reads ASCII too.
  const whole = initial.g1;
  if (!usesExtensions) return plain(terms, whole);

  return {
    terms,
    decode(buf, start, end, delimiters) {
      const esc = buf.indexOf(ESC, start);
      if (esc === -1 || esc >= end) {
        return decodeWith(whole, buf, start, end);
      }
      return decodeIso2022(buf, start, end, initial, delimiters);
    },
  };
}

function plain(terms: string[], codec: Codec): TextDecoding {
  return { terms, decode: (buf, start, end) => decodeWith(codec, buf, start, end) };
}

/**
 * ISO 2022 decoding with escape sequences (PS3.5 6.1.2.5, Annex H/I/J examples):
 * ESC ( B / ESC ( J → G0 ASCII / JIS X 0201 Romaji; ESC $ B (or ESC $ @) → G0 JIS X 0208;
 * ESC $ ( D → G0 JIS X 0212; ESC ) I → G1 JIS X 0201 Katakana; ESC - F → G1 a 96-set;
 * ESC $ ) C → G1 KS X 1001; ESC $ ) A → G1 GB 2312. Delimiters met while G0 is a
 * one-byte set restore the initial sets.
 */
function decodeIso2022(buf: Buffer, start: number, end: number, initial: InitialSets, delimiters: Delimiters): string {
  const delims = delimiters === 'pn' ? DELIMS_PN : delimiters === 'multi' ? DELIMS_MULTI : DELIMS_TEXT;
  let g0: Codec = initial.g0;
  let g1: Codec = initial.g1;
  let g1Double = initial.g1Double;

  let out = '';
  let run: number[] = [];
  let runCodec: Codec = LATIN1;
  const emit = (codec: Codec, ...bytes: number[]) => {
    if (codec !== runCodec && run.length > 0) {
      out += decodeWith(runCodec, Buffer.from(run), 0, run.length);
      run = [];
    }
    runCodec = codec;
    run.push(...bytes);
  };

  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b === ESC) {
      const b1 = buf[i + 1];
      const b2 = buf[i + 2];
      const b3 = buf[i + 3];
      if (b1 === 0x28 && (b2 === 0x42 || b2 === 0x4a)) {
        g0 = LATIN1; // ESC ( B ASCII, ESC ( J JIS X 0201 Romaji (read as ASCII, like pydicom)
        i += 3;
      } else if (b1 === 0x24 && (b2 === 0x42 || b2 === 0x40)) {
        g0 = { kind: 'jis', plane: 0x0208 };
        i += 3;
      } else if (b1 === 0x24 && b2 === 0x28 && b3 === 0x44) {
        g0 = { kind: 'jis', plane: 0x0212 };
        i += 4;
      } else if (b1 === 0x29 && b2 === 0x49) {
        g1 = singleByteCodec('13');
        g1Double = false;
        i += 3;
      } else if (b1 === 0x2d && G1_96_FINAL[b2] !== undefined) {
        g1 = singleByteCodec(G1_96_FINAL[b2]);
        g1Double = false;
        i += 3;
      } else if (b1 === 0x24 && b2 === 0x29 && (b3 === 0x43 || b3 === 0x41)) {
        g1 = { kind: 'decoder', label: b3 === 0x43 ? 'euc-kr' : 'gbk' };
        g1Double = true;
        i += 4;
      } else {
        i += 1; // unknown escape: drop ESC, keep the rest as text
      }
      continue;
    }
    if (b < 0x80) {
      if (g0.kind === 'jis' && b >= 0x21 && b <= 0x7e && i + 1 < end) {
        const c = buf[i + 1];
        if (g0.plane === 0x0208) emit(g0, b | 0x80, c | 0x80);
        else emit(g0, 0x8f, b | 0x80, c | 0x80);
        i += 2;
        continue;
      }
      emit(LATIN1, b);
      i += 1;
      if (delims.has(b) && g0.kind !== 'jis') {
        g0 = initial.g0;
        g1 = initial.g1;
        g1Double = initial.g1Double;
      }
      continue;
    }
    if (g1Double && i + 1 < end) {
      emit(g1, b, buf[i + 1]);
      i += 2;
    } else {
      emit(g1, b);
      i += 1;
    }
  }
  if (run.length > 0) out += decodeWith(runCodec, Buffer.from(run), 0, run.length);
  return out;
}
