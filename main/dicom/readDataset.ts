/**
 * Walks an encoded dataset (PS3.5 7: data elements, 7.5: nested datasets,
 * A.4: encapsulated pixel data) once, producing its DICOM JSON Model
 * (PS3.18 F.2) and the byte range of every value given a BulkDataURI.
 *
 * Written here rather than on dicom-parser 1.8 because that library does not
 * know the 32-bit length VRs OV, SV, UV (PS3.5 Table 7.1-1: it misreads them),
 * does not check element lengths against the buffer (a truncated file yields
 * elements running past its end), drops private implicit sequences of defined
 * length, throws bare strings without offsets, and would need a second walk
 * over its element tree to build JSON, paths and ranges; one pass here does all.
 *
 * Rules followed (pydicom is the reference the tests compare with):
 * - implicit VR: VR from the dictionary; private creators LO, other private and
 *   unknown tags UN; ambiguous VRs resolved like PS3.5 A.1/PS3.3: 'OB or OW' → OW,
 *   'US or SS' by Pixel Representation (nearest enclosing dataset), LUT Data US
 *   when the LUT Descriptor's first value is 1, else OW;
 * - explicit VR 'UN' of a known public tag takes the dictionary VR (CP-246);
 *   UN of undefined length is a sequence encoded in implicit VR little endian
 *   (PS3.5 6.2.2); an item whose first element has no valid VR is read as
 *   implicit VR (writers that switch inside sequences);
 * - Specific Character Set (0008,0005) applies to its dataset and the items
 *   nested in it, unless an item has its own;
 * - group length elements (gggg,0000) are skipped;
 * - binary VRs (OB, OD, OF, OL, OV, OW, UN), and numbers whose length is not a
 *   multiple of their size, become BulkDataURI '@INSTANCE@/bulk/<path>' with
 *   path GGGGEEEE at top level and SEQTAG/itemIndex/GGGGEEEE nested;
 * - top-level DS, IS and PN values are also kept as text as written (see
 *   ParsedInstance.writtenText), from the decoding the JSON value is made of.
 */
import { AppError } from '../errors.js';
import { DEFAULT_DECODING, characterSetDecoding, type TextDecoding } from './characterSets.js';
import { entryOfTag, isPrivateCreatorTag, isPrivateTag, tagHex, tagLabel } from './dictionary.js';
import { NUMBER_SIZE, decodedText, numberTextAsWritten, numberValues, stringValues, valuesOfText } from './elementValues.js';
import { INSTANCE_URL_TOKEN, type ByteRange, type DicomJsonDataset, type DicomJsonElement, type DicomJsonValue } from './types.js';

export interface DatasetEncoding {
  explicit: boolean;
  little: boolean;
}

/** (7FE0,0010) of the top-level dataset. */
export interface PixelDataElement {
  /** Value field: native pixels, or for encapsulated data all items up to the Sequence Delimiter. */
  value: ByteRange;
  encapsulated: boolean;
  /** Encapsulated: the item values in order, the Basic Offset Table first (PS3.5 A.4). */
  items?: ByteRange[];
}

export interface DatasetReading {
  dataset: DicomJsonDataset;
  bulk: Record<string, ByteRange>;
  pixelData?: PixelDataElement;
  /** Top-level non-empty DS, IS and PN values as written, by 8-hex tag (ParsedInstance.writtenText). */
  writtenText: Record<string, string>;
}

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000; // Item
const ITEM_DELIMITER = 0xfffee00d; // ItemDelimitationItem
const SEQUENCE_DELIMITER = 0xfffee0dd; // SequenceDelimitationItem
const PIXEL_DATA = 0x7fe00010; // PixelData
const SPECIFIC_CHARACTER_SET = 0x00080005; // SpecificCharacterSet
const PIXEL_REPRESENTATION = 0x00280103; // PixelRepresentation
const LUT_DESCRIPTOR = 0x00283002; // LUTDescriptor
/** LUT descriptors whose first value is unsigned even when the VR is SS (PS3.3 C.7.6.3.1.5, C.11.1.1). */
const LUT_DESCRIPTORS = new Set([0x00281101, 0x00281102, 0x00281103, LUT_DESCRIPTOR]);
const MAX_DEPTH = 64;

/** Explicit VRs with a 2-byte reserved field and a 32-bit length (PS3.5 Table 7.1-1). */
export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
export const KNOWN_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN',
  'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

/** VR strings by their two bytes (c0 << 8 | c1): no string is made per element. */
const VR_BY_CODE: (string | undefined)[] = new Array(0x10000);
for (const vr of KNOWN_VRS) VR_BY_CODE[(vr.charCodeAt(0) << 8) | vr.charCodeAt(1)] = vr;

/** The state a nested dataset inherits: character set, and what resolves ambiguous VRs. */
interface Scope {
  parent?: Scope;
  decoding: TextDecoding;
  pixelRepresentation?: number;
  lutDescriptorFirst?: number;
}

const keyCache = new Map<number, string>();
function keyOf(tag: number): string {
  let key = keyCache.get(tag);
  if (key === undefined) {
    key = tagHex(tag);
    if (keyCache.size < 100_000) keyCache.set(tag, key);
  }
  return key;
}

export function badDicom(message: string): AppError {
  return new AppError('bad-dicom', message);
}

/**
 * Reads the dataset encoded in `buf` from `start` to the end of `buf`.
 * `where` is appended to truncation messages (e.g. ' of the inflated dataset').
 *
 * `fileLength`, when longer than `buf`: `buf` is only the start of the
 * encoded bytes, which are `fileLength` long (a file still in the pieces it
 * arrived in). The walk then skips top-level bulk values that run past `buf`
 * (their bytes are never read, only their range kept) and throws
 * HeadTooShort as soon as it would need any other byte past `buf`; the
 * caller then reads the whole file instead. A walk that does not throw gives
 * what the whole file would give.
 */
export function readDataset(buf: Buffer, start: number, encoding: DatasetEncoding, where = '', fileLength = buf.length): DatasetReading {
  return new DatasetWalker(buf, where, Math.max(fileLength, buf.length)).read(start, encoding);
}

/** readDataset (or readPart10) given only the start of a file needed bytes past it. */
export class HeadTooShort extends Error {
  constructor(at: number) {
    super(`the first bytes of the file end before offset ${at}, which the reading needs`);
  }
}

class DatasetWalker {
  private readonly bulk: Record<string, ByteRange> = {};
  private readonly writtenText: Record<string, string> = {};
  private pixelData?: PixelDataElement;
  private depth = 0;
  /** `buf` holds only the start of the encoded bytes (see readDataset). */
  private readonly partial: boolean;

  constructor(
    private readonly buf: Buffer,
    private readonly where: string,
    /** Length of the whole encoded bytes (`buf.length` unless partial). */
    private readonly fileLength: number,
  ) {
    this.partial = fileLength > buf.length;
  }

  read(start: number, encoding: DatasetEncoding): DatasetReading {
    const dataset: DicomJsonDataset = {};
    this.readElements(dataset, start, this.fileLength, false, encoding.explicit, encoding.little, '', { decoding: DEFAULT_DECODING });
    return { dataset, bulk: this.bulk, pixelData: this.pixelData, writtenText: this.writtenText };
  }

  private truncated(at: number, what: string): AppError {
    return badDicom(`truncated at offset ${at}${this.where} while reading ${what}`);
  }

  /**
   * Reads elements from `pos` up to `limit`, or up to an Item Delimitation Item
   * when `delimited`; returns the offset after the last byte read.
   */
  private readElements(dataset: DicomJsonDataset, pos: number, limit: number, delimited: boolean, explicit: boolean, little: boolean, prefix: string, scope: Scope): number {
    const buf = this.buf;
    const topLevel = prefix === '';
    while (pos < limit) {
      if (limit - pos < 8) {
        // A few stray bytes after the last top-level element (seen in the wild) are ignored, like pydicom does.
        if (topLevel && !delimited) return limit;
        throw this.truncated(limit, `an element header at offset ${pos}`);
      }
      // Only the top level runs past `buf` when partial (nested reads stay within it, readValue).
      if (this.partial && limit > buf.length && pos + 12 > buf.length) throw new HeadTooShort(pos + 12);
      const group = little ? buf.readUInt16LE(pos) : buf.readUInt16BE(pos);
      const element = little ? buf.readUInt16LE(pos + 2) : buf.readUInt16BE(pos + 2);
      const tag = (group * 0x10000 + element) >>> 0;

      if (group === 0xfffe) {
        if (tag === ITEM_DELIMITER) {
          if (delimited) return pos + 8;
          pos += 8; // stray delimiter in a defined-length item: nothing to read
          continue;
        }
        throw badDicom(`unexpected ${tagLabel(tag)} at offset ${pos}${this.where} where a data element was expected`);
      }

      let vr: string;
      let length: number;
      let valueOffset: number;
      const c0 = buf[pos + 4];
      const c1 = buf[pos + 5];
      if (explicit && c0 >= 0x41 && c0 <= 0x5a && c1 >= 0x41 && c1 <= 0x5a) {
        vr = VR_BY_CODE[(c0 << 8) | c1] ?? String.fromCharCode(c0, c1);
        if (LONG_VRS.has(vr)) {
          if (limit - pos < 12) throw this.truncated(limit, `the header of ${tagLabel(tag)} at offset ${pos}`);
          length = little ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
          valueOffset = pos + 12;
        } else {
          length = little ? buf.readUInt16LE(pos + 6) : buf.readUInt16BE(pos + 6);
          valueOffset = pos + 8;
        }
        if (vr === 'UN') vr = this.vrForUn(tag, length, scope);
        else if (!KNOWN_VRS.has(vr)) vr = 'UN'; // a VR this version of the standard does not define
      } else {
        // Implicit VR, or an implicit element inside an explicit dataset (writers that switch; pydicom reads it so too).
        length = little ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
        valueOffset = pos + 8;
        // Encapsulated Pixel Data is OB (PS3.5 A.4), whatever the dictionary's 'OB or OW' would give.
        vr = tag === PIXEL_DATA && length === UNDEFINED_LENGTH ? 'OB' : this.implicitVr(tag, scope);
      }

      pos = this.readValue(dataset, tag, vr, length, valueOffset, limit, explicit, little, prefix, scope);
    }
    if (delimited) throw this.truncated(limit, `a sequence item with no Item Delimitation Item (FFFE,E00D) in ${prefix.slice(0, -1) || 'the dataset'}`);
    return pos;
  }

  private implicitVr(tag: number, scope: Scope): string {
    if ((tag & 0xffff) === 0) return 'UL'; // group length
    if (isPrivateTag(tag)) return isPrivateCreatorTag(tag) ? 'LO' : 'UN';
    const entry = entryOfTag(tag);
    if (!entry) return 'UN';
    return this.resolveAmbiguous(entry.vr, scope);
  }

  /** Explicit 'UN' of a tag the dictionary knows takes the dictionary's VR (CP-246; pydicom does the same). */
  private vrForUn(tag: number, length: number, scope: Scope): string {
    if (isPrivateTag(tag)) return isPrivateCreatorTag(tag) ? 'LO' : 'UN';
    if (length !== UNDEFINED_LENGTH && length >= 0xffff) return 'UN';
    const entry = entryOfTag(tag);
    if (!entry || entry.vr === 'NONE') return 'UN';
    return this.resolveAmbiguous(entry.vr, scope);
  }

  private resolveAmbiguous(vr: string, scope: Scope): string {
    switch (vr) {
      case 'OB or OW':
        return 'OW';
      case 'US or SS': {
        for (let s: Scope | undefined = scope; s; s = s.parent) {
          if (s.pixelRepresentation !== undefined) return s.pixelRepresentation === 0 ? 'US' : 'SS';
        }
        return 'US';
      }
      case 'US or SS or OW':
        return scope.lutDescriptorFirst === 1 ? 'US' : 'OW';
      case 'NONE':
        return 'UN';
      default:
        return vr;
    }
  }

  /** Reads one element's value into `dataset`; returns the offset after it. */
  private readValue(
    dataset: DicomJsonDataset,
    tag: number,
    vr: string,
    length: number,
    valueOffset: number,
    limit: number,
    explicit: boolean,
    little: boolean,
    prefix: string,
    scope: Scope,
  ): number {
    const buf = this.buf;
    const key = keyOf(tag);
    const skip = (tag & 0xffff) === 0 || (prefix === '' && tag >>> 16 === 0x0002); // group length, stray File Meta

    if (length === UNDEFINED_LENGTH) {
      // Partial: what has no length must be found within `buf` (running past it reads as truncated, and the caller reads the whole file).
      if (this.partial) limit = Math.min(limit, buf.length);
      const isSequence = vr === 'SQ' || vr === 'UN' || (vr !== 'OB' && vr !== 'OW' && tag !== PIXEL_DATA && this.nextIsItem(valueOffset, limit, little));
      if (isSequence) {
        // UN of undefined length: a sequence in implicit VR little endian (PS3.5 6.2.2).
        const items: DicomJsonDataset[] = [];
        const end = this.readSequence(items, tag, key, valueOffset, UNDEFINED_LENGTH, limit, vr === 'UN' ? false : explicit, vr === 'UN' ? true : little, prefix, scope);
        if (!skip) dataset[key] = items.length > 0 ? { vr: 'SQ', Value: items } : { vr: 'SQ' };
        return end;
      }
      // Encapsulated value (PS3.5 A.4): items up to a Sequence Delimitation Item.
      const items: ByteRange[] = [];
      const delimiterAt = this.readFragments(items, tag, valueOffset, limit, little);
      const range = { offset: valueOffset, length: delimiterAt - valueOffset };
      if (tag === PIXEL_DATA && prefix === '') this.pixelData = { value: range, encapsulated: true, items };
      if (!skip) this.addBulk(dataset, key, vr === 'OW' ? 'OW' : 'OB', prefix, range);
      return delimiterAt + 8;
    }

    const end = valueOffset + length;
    if (this.partial && end > buf.length && end <= limit && !(prefix === '' && (skip || BINARY_VRS.has(vr)))) {
      // Only top-level values never read (bulk data, group lengths) may lie past `buf`.
      throw new HeadTooShort(end);
    }
    if (end > limit) {
      if (limit === buf.length) {
        throw this.truncated(buf.length, `${tagLabel(tag)}: its value of ${length} bytes starts at offset ${valueOffset}, only ${buf.length - valueOffset} bytes remain`);
      }
      throw badDicom(`${tagLabel(tag)} at offset ${valueOffset - 8}${this.where} declares ${length} bytes, past the end of its enclosing item at offset ${limit}`);
    }
    if (skip) return end;

    if (vr === 'SQ') {
      const items: DicomJsonDataset[] = [];
      this.readSequence(items, tag, key, valueOffset, length, end, explicit, little, prefix, scope);
      dataset[key] = items.length > 0 ? { vr: 'SQ', Value: items } : { vr: 'SQ' };
      return end;
    }
    if (BINARY_VRS.has(vr)) {
      if (tag === PIXEL_DATA && prefix === '') this.pixelData = { value: { offset: valueOffset, length }, encapsulated: false };
      if (length === 0) dataset[key] = { vr };
      else this.addBulk(dataset, key, vr, prefix, { offset: valueOffset, length });
      return end;
    }
    if (NUMBER_SIZE[vr] !== undefined) {
      const values = numberValues(buf, valueOffset, length, vr, little);
      if (values === 'bad-length') {
        this.addBulk(dataset, key, vr, prefix, { offset: valueOffset, length });
        return end;
      }
      if (values && LUT_DESCRIPTORS.has(tag) && typeof values[0] === 'number' && values[0] < 0) values[0] += 0x10000;
      dataset[key] = values ? { vr, Value: values } : { vr };
      if (values && typeof values[0] === 'number') {
        if (tag === PIXEL_REPRESENTATION) scope.pixelRepresentation = values[0];
        else if (tag === LUT_DESCRIPTOR) scope.lutDescriptorFirst = values[0];
      }
      return end;
    }
    // String VRs.
    let values: DicomJsonValue[] | undefined;
    if (prefix === '' && (vr === 'DS' || vr === 'IS' || vr === 'PN')) {
      const text = decodedText(buf, valueOffset, length, vr, scope.decoding);
      values = valuesOfText(text, vr);
      if (values) this.writtenText[key] = vr === 'PN' ? text : numberTextAsWritten(text);
    } else {
      values = stringValues(buf, valueOffset, length, vr, scope.decoding);
    }
    dataset[key] = values ? { vr, Value: values } : { vr };
    if (tag === SPECIFIC_CHARACTER_SET) {
      scope.decoding = values ? characterSetDecoding(values.map((v) => (typeof v === 'string' ? v : ''))) : DEFAULT_DECODING;
    }
    return end;
  }

  private addBulk(dataset: DicomJsonDataset, key: string, vr: string, prefix: string, range: ByteRange): void {
    const path = prefix + key;
    this.bulk[path] = range;
    const element: DicomJsonElement = { vr, BulkDataURI: `${INSTANCE_URL_TOKEN}/bulk/${path}` };
    dataset[key] = element;
  }

  private nextIsItem(pos: number, limit: number, little: boolean): boolean {
    if (limit - pos < 4) return false;
    const group = little ? this.buf.readUInt16LE(pos) : this.buf.readUInt16BE(pos);
    const element = little ? this.buf.readUInt16LE(pos + 2) : this.buf.readUInt16BE(pos + 2);
    return group === 0xfffe && (element === 0xe000 || element === 0xe0dd);
  }

  /** An item's first element carries a valid explicit VR (otherwise the item is implicit VR). */
  private looksExplicit(pos: number, limit: number): boolean {
    if (limit - pos < 6) return true;
    return VR_BY_CODE[(this.buf[pos + 4] << 8) | this.buf[pos + 5]] !== undefined;
  }

  /**
   * Reads sequence items (PS3.5 7.5) into `items`. `length` is the sequence's
   * length or UNDEFINED_LENGTH; `limit` bounds it. Returns the offset after it.
   */
  private readSequence(
    items: DicomJsonDataset[],
    tag: number,
    key: string,
    start: number,
    length: number,
    limit: number,
    explicit: boolean,
    little: boolean,
    prefix: string,
    scope: Scope,
  ): number {
    if (++this.depth > MAX_DEPTH) throw badDicom(`sequences nested deeper than ${MAX_DEPTH} levels at ${tagLabel(tag)}, offset ${start}${this.where}`);
    const buf = this.buf;
    const undefinedLength = length === UNDEFINED_LENGTH;
    const end = undefinedLength ? limit : start + length;
    let pos = start;
    while (pos < end) {
      if (end - pos < 8) throw this.truncated(end, `an item header of ${tagLabel(tag)} at offset ${pos}`);
      const group = little ? buf.readUInt16LE(pos) : buf.readUInt16BE(pos);
      const element = little ? buf.readUInt16LE(pos + 2) : buf.readUInt16BE(pos + 2);
      const itemTag = (group * 0x10000 + element) >>> 0;
      const itemLength = little ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      if (itemTag === SEQUENCE_DELIMITER) {
        this.depth--;
        return pos + 8;
      }
      if (itemTag !== ITEM) {
        throw badDicom(`expected an Item (FFFE,E000) at offset ${pos}${this.where} in sequence ${tagLabel(tag)}, found ${tagLabel(itemTag)}`);
      }
      const itemStart = pos + 8;
      const item: DicomJsonDataset = {};
      const itemPrefix = `${prefix}${key}/${items.length}/`;
      const itemScope: Scope = { parent: scope, decoding: scope.decoding };
      if (itemLength === UNDEFINED_LENGTH) {
        const itemExplicit = explicit && this.looksExplicit(itemStart, end);
        pos = this.readElements(item, itemStart, end, true, itemExplicit, little, itemPrefix, itemScope);
      } else {
        const itemEnd = itemStart + itemLength;
        if (itemEnd > end) {
          if (end === buf.length) throw this.truncated(end, `an item of ${tagLabel(tag)}: its ${itemLength} bytes start at offset ${itemStart}`);
          throw badDicom(`an item of ${tagLabel(tag)} at offset ${pos}${this.where} declares ${itemLength} bytes, past the end of its sequence at offset ${end}`);
        }
        const itemExplicit = explicit && this.looksExplicit(itemStart, itemEnd);
        this.readElements(item, itemStart, itemEnd, false, itemExplicit, little, itemPrefix, itemScope);
        pos = itemEnd;
      }
      items.push(item);
    }
    if (undefinedLength) throw this.truncated(end, `sequence ${tagLabel(tag)}: no Sequence Delimitation Item (FFFE,E0DD)`);
    this.depth--;
    return end;
  }

  /** Encapsulated items (PS3.5 A.4): their value ranges; returns the offset of the Sequence Delimitation Item. */
  private readFragments(items: ByteRange[], tag: number, start: number, limit: number, little: boolean): number {
    const buf = this.buf;
    let pos = start;
    while (true) {
      if (limit - pos < 8) throw this.truncated(limit, `encapsulated ${tagLabel(tag)}: no Sequence Delimitation Item (FFFE,E0DD) after offset ${pos}`);
      const group = little ? buf.readUInt16LE(pos) : buf.readUInt16BE(pos);
      const element = little ? buf.readUInt16LE(pos + 2) : buf.readUInt16BE(pos + 2);
      const itemTag = (group * 0x10000 + element) >>> 0;
      const itemLength = little ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      if (itemTag === SEQUENCE_DELIMITER) return pos;
      if (itemTag !== ITEM) throw badDicom(`expected a fragment Item (FFFE,E000) at offset ${pos}${this.where} in encapsulated ${tagLabel(tag)}, found ${tagLabel(itemTag)}`);
      if (itemLength === UNDEFINED_LENGTH) throw badDicom(`fragment of encapsulated ${tagLabel(tag)} at offset ${pos}${this.where} has undefined length`);
      if (pos + 8 + itemLength > limit) throw this.truncated(limit, `a fragment of ${tagLabel(tag)}: its ${itemLength} bytes start at offset ${pos + 8}`);
      items.push({ offset: pos + 8, length: itemLength });
      pos += 8 + itemLength;
    }
  }
}

