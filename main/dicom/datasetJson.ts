/**
 * DICOM JSON text (PS3.18 F.2) with attributes in ascending tag order, nested
 * sequence items too. JavaScript objects enumerate integer-like keys such as
 * "30060020" or "60003000" before all others, so JSON.stringify alone would put
 * those tags first.
 */
import type { DicomJsonDataset, DicomJsonElement } from './types.js';

export function stringifyDataset(dataset: DicomJsonDataset): string {
  const keys = Object.keys(dataset).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    out += (i === 0 ? '"' : ',"') + key + '":' + stringifyElement(dataset[key]!);
  }
  return out + '}';
}

/** One element's DICOM JSON text (sequence items with their attributes in ascending tag order). */
export function stringifyElement(element: DicomJsonElement): string {
  if (element.vr !== 'SQ' || !element.Value) return JSON.stringify(element);
  const items = element.Value.map((item) => (item && typeof item === 'object' ? stringifyDataset(item as DicomJsonDataset) : JSON.stringify(item)));
  return `{"vr":"SQ","Value":[${items.join(',')}]}`;
}
