/**
 * DICOM JSON Model → Native DICOM Model XML (PS3.19 A.1), the
 * application/dicom+xml representation of WADO-RS metadata (PS3.18 10.4.1.1.2)
 * and STOW-RS responses (PS3.18 10.5.3).
 *
 * Written by hand: the document is a fixed, shallow shape (DicomAttribute,
 * Value, PersonName, Item, BulkData, InlineBinary), so a string builder with
 * escaping is all it takes, and it is faster than building a DOM.
 * Characters XML 1.0 cannot carry (C0 controls other than TAB, CR, LF; lone
 * surrogates) are replaced with U+FFFD.
 */
import { keywordOfTag } from './dictionary.js';
import { INSTANCE_URL_TOKEN, type DicomJsonDataset, type DicomJsonPersonName, type DicomJsonValue } from './types.js';

const NAMESPACE = 'http://dicom.nema.org/PS3.19/models/NativeDICOM';
const PN_COMPONENTS = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix'] as const;
const PN_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

const NOT_XML_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
// CR as a character reference: XML parsers turn a literal CR LF into LF (XML 1.0 2.11).
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

function escapeXml(s: string): string {
  return s.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"'\r]/g, (c) => ESCAPES[c]);
}

/** The dataset as one PS3.19 document. `bulkBase` replaces '@INSTANCE@' in bulk data URIs when given. */
export function datasetToXml(dataset: DicomJsonDataset, bulkBase?: string): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<NativeDicomModel xmlns="${NAMESPACE}">`];
  writeAttributes(out, dataset, bulkBase);
  out.push('</NativeDicomModel>\n');
  return out.join('');
}

function privateCreatorOf(dataset: DicomJsonDataset, tag: string): string | undefined {
  const group = parseInt(tag.slice(0, 4), 16);
  const block = parseInt(tag.slice(4, 6), 16);
  if ((group & 1) === 0 || block < 0x10) return undefined;
  const creator = dataset[`${tag.slice(0, 4)}00${tag.slice(4, 6)}`]?.Value?.[0];
  return typeof creator === 'string' ? creator : undefined;
}

function writeAttributes(out: string[], dataset: DicomJsonDataset, bulkBase: string | undefined): void {
  for (const tag of Object.keys(dataset).sort()) {
    const element = dataset[tag];
    const keyword = keywordOfTag(tag);
    const creator = keyword ? undefined : privateCreatorOf(dataset, tag);
    out.push(`<DicomAttribute tag="${tag}" vr="${escapeXml(element.vr)}"`);
    if (keyword) out.push(` keyword="${keyword}"`);
    if (creator !== undefined) out.push(` privateCreator="${escapeXml(creator)}"`);
    out.push('>');
    if (element.BulkDataURI !== undefined) {
      const uri = bulkBase !== undefined && element.BulkDataURI.startsWith(INSTANCE_URL_TOKEN) ? bulkBase + element.BulkDataURI.slice(INSTANCE_URL_TOKEN.length) : element.BulkDataURI;
      out.push(`<BulkData uri="${escapeXml(uri)}"/>`);
    } else if (element.InlineBinary !== undefined) {
      out.push(`<InlineBinary>${escapeXml(element.InlineBinary)}</InlineBinary>`);
    } else if (element.Value) {
      writeValues(out, element.vr, element.Value, bulkBase);
    }
    out.push('</DicomAttribute>');
  }
}

function writeValues(out: string[], vr: string, values: DicomJsonValue[], bulkBase: string | undefined): void {
  values.forEach((value, i) => {
    const number = i + 1;
    if (vr === 'SQ') {
      out.push(`<Item number="${number}">`);
      if (value && typeof value === 'object') writeAttributes(out, value as DicomJsonDataset, bulkBase);
      out.push('</Item>');
    } else if (vr === 'PN') {
      if (value === null || typeof value !== 'object') {
        out.push(`<PersonName number="${number}"/>`);
        return;
      }
      out.push(`<PersonName number="${number}">`);
      writePersonName(out, value as DicomJsonPersonName);
      out.push('</PersonName>');
    } else if (value === null) {
      out.push(`<Value number="${number}"/>`);
    } else {
      out.push(`<Value number="${number}">${escapeXml(String(value))}</Value>`);
    }
  });
}

/** PS3.19 A.1.5: each component group split into its five components on '^'. */
function writePersonName(out: string[], pn: DicomJsonPersonName): void {
  for (const group of PN_GROUPS) {
    const text = pn[group];
    if (text === undefined || text === '') continue;
    out.push(`<${group}>`);
    text.split('^').forEach((part, i) => {
      if (i < PN_COMPONENTS.length && part !== '') out.push(`<${PN_COMPONENTS[i]}>${escapeXml(part)}</${PN_COMPONENTS[i]}>`);
    });
    out.push(`</${group}>`);
  }
}
