/**
 * Matching of a DICOM JSON dataset against a filter, for attributes the index
 * has no column for (PS3.4 C.2.2.2; sequence matching C.2.2.2.6 reduced to
 * "any item matches"). A multi-valued attribute matches when any value does.
 * Same rules as the SQL side (matching.ts): text ignores ASCII case, UIDs exact.
 */
import type { DicomJsonDataset, DicomJsonElement } from '../dicom/types.js';
import { elementStrings, normalisePersonName } from './dicomValues.js';
import { asciiUpper, canonicalTemporal, inRange, personNameMatches, wildcardRegExp } from './matching.js';
import type { MatchFilter, MatchRule } from './searchTypes.js';

const NUMERIC_VRS = new Set(['DS', 'IS', 'FL', 'FD', 'SL', 'SS', 'UL', 'US', 'SV', 'UV']);
const TEMPORAL_VRS = new Set(['DA', 'TM', 'DT']);

function valueMatches(rule: MatchRule, vr: string, value: string, fuzzy: boolean): boolean {
  switch (rule.kind) {
    case 'universal':
      return true;
    case 'single':
      if (vr === 'PN') return personNameMatches(normalisePersonName(value), rule.value, fuzzy);
      if (TEMPORAL_VRS.has(vr)) return canonicalTemporal(vr, value) === canonicalTemporal(vr, rule.value);
      if (NUMERIC_VRS.has(vr) && value.trim() !== '' && rule.value.trim() !== '') return Number(value) === Number(rule.value);
      return vr === 'UI' ? value === rule.value : asciiUpper(value) === asciiUpper(rule.value);
    case 'wildcard':
      if (vr === 'PN') return personNameMatches(normalisePersonName(value), rule.pattern, fuzzy);
      return wildcardRegExp(asciiUpper(rule.pattern)).test(asciiUpper(value));
    case 'range':
      return inRange(canonicalTemporal(vr, value), rule.from, rule.to);
    case 'list':
      return vr === 'UI' ? rule.values.includes(value) : rule.values.some((v) => asciiUpper(v) === asciiUpper(value));
  }
}

function elementMatches(rule: MatchRule, vr: string, el: DicomJsonElement | undefined, fuzzy: boolean): boolean {
  if (rule.kind === 'universal') return true;
  const values = elementStrings(el);
  if (values.length === 0) return rule.kind === 'wildcard' && /^\*+$/.test(rule.pattern);
  return values.some((v) => valueMatches(rule, vr, v, fuzzy));
}

/** Does `ds` match the filter? Sequences along the path match when any item does. */
export function datasetMatches(ds: DicomJsonDataset, filter: MatchFilter, fuzzy: boolean): boolean {
  const walk = (current: DicomJsonDataset, depth: number): boolean => {
    const tag = filter.path[depth]!;
    const el = current[tag];
    if (depth === filter.path.length - 1) return elementMatches(filter.rule, filter.vr, el, fuzzy);
    if (filter.rule.kind === 'universal') return true;
    const items = (el?.Value ?? []) as DicomJsonDataset[];
    return items.some((item) => item !== null && typeof item === 'object' && walk(item, depth + 1));
  };
  return walk(ds, 0);
}
