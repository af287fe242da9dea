/**
 * The DICOM data dictionary (PS3.6): keyword ↔ tag ↔ VR lookups for the parser
 * (implicit VR datasets, PS3.5 7.1.3), QIDO query keys (keywords or 8-hex tags,
 * PS3.18 8.3.4) and the XML writer (PS3.19 keyword attribute).
 *
 * Built on dcmjs's packed dictionary (`dcmjs.data.DicomMetaDictionary`), read once
 * into a Map keyed by the numeric tag. dcmjs spells retired keywords with a
 * 'RETIRED_' prefix (the standard does not) and codes ambiguous VRs in lower
 * case ('ox', 'xs', 'lt', 'up'); both are translated here to the standard's
 * spelling ('OB or OW', 'US or SS', 'US or SS or OW', 'UL').
 */
import dcmjs from 'dcmjs';

export interface DictionaryEntry {
  /** 8 upper-case hex digits, e.g. '00100010'. */
  tag: string;
  keyword: string;
  /** VR as PS3.6 lists it; ambiguous ones as 'US or SS', 'OB or OW', 'US or SS or OW'. */
  vr: string;
  vm: string;
}

interface DcmjsEntry {
  tag: string; // '(0010,0010)'
  vr: string;
  vm: string;
  name: string;
}

const { DicomMetaDictionary } = dcmjs.data;

const AMBIGUOUS_VR: Record<string, string> = {
  ox: 'OB or OW',
  xs: 'US or SS',
  lt: 'US or SS or OW',
  up: 'UL',
  na: 'NONE', // item and delimitation tags (FFFE,E000/E00D/E0DD) have no VR
};

const byTag = new Map<number, DictionaryEntry | null>();
const byKeyword = new Map<string, DictionaryEntry>();

function entryOf(e: DcmjsEntry): DictionaryEntry {
  const tag = e.tag.slice(1, 5) + e.tag.slice(6, 10);
  return {
    tag: tag.toUpperCase(),
    keyword: e.name.startsWith('RETIRED_') ? e.name.slice('RETIRED_'.length) : e.name,
    vr: AMBIGUOUS_VR[e.vr] ?? e.vr,
    vm: e.vm,
  };
}

for (const e of Object.values(DicomMetaDictionary.nameMap)) {
  const entry = entryOf(e);
  byTag.set(parseInt(entry.tag, 16), entry);
  byKeyword.set(entry.keyword, entry);
}

/** Tags seen that are neither in the map nor in a repeating group: remember misses, bounded. */
const MAX_CACHED_MISSES = 65536;
let cachedMisses = 0;

/** 8 upper-case hex digits of a numeric tag. */
export function tagHex(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** '(GGGG,EEEE)' for messages. */
export function tagLabel(tag: number): string {
  const hex = tagHex(tag);
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** Private data elements live in odd groups (PS3.5 7.8). */
export function isPrivateTag(tag: number): boolean {
  return ((tag >>> 16) & 1) === 1;
}

/** Private Creator Data Elements (gggg,0010-00FF), PS3.5 7.8.1: always VR LO. */
export function isPrivateCreatorTag(tag: number): boolean {
  const element = tag & 0xffff;
  return isPrivateTag(tag) && element >= 0x0010 && element <= 0x00ff;
}

/** The dictionary entry of a public tag (numeric), including repeating groups (50xx, 60xx, 7Fxx). */
export function entryOfTag(tag: number): DictionaryEntry | undefined {
  const hit = byTag.get(tag);
  if (hit !== undefined) return hit ?? undefined;
  if (isPrivateTag(tag)) return undefined;
  // Repeating groups: dcmjs resolves (60xx,3000) etc. from its range table.
  const found = DicomMetaDictionary.dictionary[tagHex(tag)];
  const entry = found ? { ...entryOf(found), tag: tagHex(tag) } : null;
  if (entry || cachedMisses < MAX_CACHED_MISSES) {
    if (!entry) cachedMisses++;
    byTag.set(tag, entry);
  }
  return entry ?? undefined;
}

function tagNumberOf(tag: string | number): number | undefined {
  if (typeof tag === 'number') return tag >>> 0;
  const hex = tag.length === 11 && tag[0] === '(' ? tag.slice(1, 5) + tag.slice(6, 10) : tag;
  return /^[0-9A-Fa-f]{8}$/.test(hex) ? parseInt(hex, 16) : undefined;
}

/** 'PatientName' → '00100010'; undefined for unknown keywords. */
export function tagOfKeyword(keyword: string): string | undefined {
  return byKeyword.get(keyword)?.tag;
}

/** '00100010' (or 0x00100010, or '(0010,0010)') → 'PatientName'; undefined for private or unknown tags. */
export function keywordOfTag(tag: string | number): string | undefined {
  const n = tagNumberOf(tag);
  return n === undefined ? undefined : entryOfTag(n)?.keyword;
}

/**
 * The dictionary VR of a tag: 'PN', 'US or SS'…; 'LO' for private creators;
 * undefined for other private tags and unknown tags (the parser then uses 'UN').
 */
export function vrOfTag(tag: string | number): string | undefined {
  const n = tagNumberOf(tag);
  if (n === undefined) return undefined;
  if (isPrivateCreatorTag(n)) return 'LO';
  return entryOfTag(n)?.vr;
}

/** A query key given as a keyword or 8 hex digits → 8 upper-case hex digits, else undefined. */
export function tagOfKey(key: string): string | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(key)) return key.toUpperCase();
  return tagOfKeyword(key);
}
