/**
 * QIDO-RS query parameters (PS3.18 8.3.4) parsed into a value object, before
 * any SQL: match keys given as keywords, 8-hex tags or dotted sequence paths
 * (`00400275.00321060`); includefield (repeated and/or comma lists, `all`);
 * limit and offset (Orthanc semantics: limit=0 means no limit); fuzzymatching.
 * Values are checked against their VR (PS3.4 C.2.2.2): DA/TM/DT single values
 * or ranges, UID lists, wildcards; `accept` and `charset` (PS3.18 8.3.3.1) are
 * taken but left to the transaction. Anything else is a 400 with a sentence
 * naming the parameter and its value.
 */
import { tagOfKey, vrOfTag } from '../dicom/dictionary.js';
import { AppError } from '../errors.js';
import { boundsOf, hasWildcard, isDate, isDateTime, isTime } from '../store/matching.js';
import type { MatchFilter, MatchRule, SearchLevel, SearchQuery } from '../store/searchTypes.js';

export interface QidoQuery {
  search: SearchQuery;
  /** Tags to add to each result (top-level); `all`: every attribute available. */
  includeFields: string[];
  includeAll: boolean;
  /** Top-level tags of the match keys, returned in every result. */
  matchKeys: string[];
  /** The `accept` query parameter, which overrides the Accept header (PS3.18 8.3.3.1). */
  accept?: string;
}

export type QueryParams = Record<string, string | string[] | undefined>;

const UID = /^[0-9]+(\.[0-9]+)*$/;
const RESERVED = new Set(['limit', 'offset', 'fuzzymatching', 'includefield', 'accept', 'charset']);

function bad(message: string): AppError {
  return new AppError('bad-request', message);
}

function single(name: string, value: string | string[]): string {
  if (Array.isArray(value)) throw bad(`QIDO parameter '${name}' is given ${value.length} times; give it once`);
  return value;
}

function nonNegativeInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw bad(`QIDO parameter '${name}' must be a non-negative integer, got '${value}'`);
  return Number(value.trim());
}

/** A key (keyword, tag, or dotted path of them) as a path of tags. */
function tagPath(key: string, what: string): string[] {
  return key.split('.').map((part) => {
    const tag = tagOfKey(part);
    if (!tag) {
      throw bad(
        `${what} '${key}' is not a DICOM attribute: '${part}' is neither a keyword of the DICOM dictionary nor 8 hexadecimal digits`,
      );
    }
    return tag;
  });
}

function vrOf(tag: string): string {
  const vr = vrOfTag(tag) ?? 'UN';
  return vr.includes(' or ') ? vr.slice(0, 2) : vr;
}

/** A range or single value of a temporal VR (PS3.4 C.2.2.2.5). */
function temporalRule(name: string, vr: string, value: string): MatchRule {
  const valid = vr === 'DA' ? isDate : vr === 'TM' ? isTime : isDateTime;
  const form = vr === 'DA' ? 'a date YYYYMMDD' : vr === 'TM' ? 'a time HHMMSS[.FFFFFF]' : 'a date-time YYYYMMDDHHMMSS[.FFFFFF][&ZZXX]';
  const fail = () => bad(`QIDO parameter '${name}' must be ${form} or a range of them (a-b, -b, a-), got '${value}'`);
  // A DT may carry a '-ZZXX' offset: split on the '-' that separates the range, i.e. one not followed by an offset's end.
  const dash = vr === 'DT' ? rangeDashInDateTime(value) : value.indexOf('-');
  if (dash < 0) {
    if (!valid(value)) throw fail();
    if (vr === 'DA') return { kind: 'single', value };
    const { from, to } = boundsOf(vr, value);
    return { kind: 'range', from, to };
  }
  const lower = value.slice(0, dash);
  const upper = value.slice(dash + 1);
  if ((lower === '' && upper === '') || (lower !== '' && !valid(lower)) || (upper !== '' && !valid(upper))) throw fail();
  return { kind: 'range', from: lower === '' ? '' : boundsOf(vr, lower).from, to: upper === '' ? '' : boundsOf(vr, upper).to };
}

function rangeDashInDateTime(value: string): number {
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '-') continue;
    const before = value.slice(0, i);
    if (before === '' || isDateTime(before)) {
      const after = value.slice(i + 1);
      if (after === '' || isDateTime(after)) return i;
    }
  }
  return -1;
}

function ruleOf(name: string, vr: string, value: string): MatchRule {
  if (value === '') return { kind: 'universal' };
  if (vr === 'DA' || vr === 'TM' || vr === 'DT') return temporalRule(name, vr, value);
  if (vr === 'UI') {
    const values = value.split(/[,\\]/);
    if (!values.every((v) => UID.test(v) && v.length <= 64)) {
      throw bad(`QIDO parameter '${name}' must be a UID or a list of UIDs separated by ',' or '\\', got '${value}'`);
    }
    return values.length === 1 ? { kind: 'single', value } : { kind: 'list', values };
  }
  if (hasWildcard(value)) return { kind: 'wildcard', pattern: value };
  if (vr === 'CS' && /[,\\]/.test(value)) return { kind: 'list', values: value.split(/[,\\]/).filter((v) => v !== '') };
  return { kind: 'single', value };
}

function fuzzyOf(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw bad(`Not a proper value for fuzzy matching (true or false): ${value}`);
}

export function parseQidoQuery(
  level: SearchLevel,
  params: QueryParams,
  scope: { studyInstanceUID?: string; seriesInstanceUID?: string } = {},
): QidoQuery {
  const filters: MatchFilter[] = [];
  const includeFields: string[] = [];
  let includeAll = false;
  let limit: number | undefined;
  let offset = 0;
  let fuzzy = false;
  let accept: string | undefined;

  for (const [name, raw] of Object.entries(params)) {
    if (raw === undefined) continue;
    const key = RESERVED.has(name.toLowerCase()) ? name.toLowerCase() : name;
    switch (key) {
      case 'limit': {
        const n = nonNegativeInteger(name, single(name, raw));
        limit = n === 0 ? undefined : n;
        break;
      }
      case 'offset':
        offset = nonNegativeInteger(name, single(name, raw));
        break;
      case 'fuzzymatching':
        fuzzy = fuzzyOf(single(name, raw));
        break;
      case 'includefield':
        for (const item of (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(','))) {
          const field = item.trim();
          if (field === '') continue;
          if (field === 'all') includeAll = true;
          else includeFields.push(tagPath(field, 'includefield')[0]!);
        }
        break;
      case 'accept':
        accept = single(name, raw);
        break;
      case 'charset':
        break; // answers are always UTF-8 (ISO_IR 192)
      default: {
        const value = single(name, raw);
        const path = tagPath(name, 'QIDO parameter');
        const vr = vrOf(path[path.length - 1]!);
        if (vr === 'SQ') throw bad(`QIDO parameter '${name}' names a sequence; match on an attribute inside it (e.g. '${name}.{keyword}')`);
        filters.push({ path, vr, rule: ruleOf(name, vr, value) });
      }
    }
  }

  const matchKeys = [...new Set(filters.map((f) => f.path[0]!))];
  return {
    search: { level, ...scope, filters, fuzzy, limit, offset },
    includeFields: [...new Set(includeFields)],
    includeAll,
    matchKeys,
    accept,
  };
}
