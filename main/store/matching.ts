/**
 * Attribute matching (PS3.4 C.2.2.2, as QIDO-RS uses it, PS3.18 8.3.4): the
 * rules shared by SQL (registered as SQLite functions) and by the JavaScript
 * matching of attributes that have no column.
 *
 * - Single value: exact. Text ignores ASCII case, as Orthanc 1.10 does for every
 *   attribute (PS3.4 C.2.2.2.1 asks case-sensitive matching except for PN;
 *   Orthanc, whose behaviour this server reproduces, is insensitive). UIDs are exact.
 * - Wildcards: `*` any run of characters, `?` one character (same case rule).
 * - Ranges of DA/TM/DT: inclusive, compared as canonical text (see the bounds below).
 * - Lists: any of the values (UIDs, codes).
 * - Person names (PN) are matched case-insensitively (Orthanc's default). A
 *   pattern matches a name when it matches the whole name or a whole name group
 *   (Alphabetic, Ideographic or Phonetic), empty trailing components ignored;
 *   a pattern without '^' also matches the family name component alone:
 *   `smith*`, `smith` and `smith^john` find `SMITH^JOHN^^`, `john` does not
 *   (that is fuzzy matching's job, PS3.18 8.3.4.5; Orthanc matches whole values only).
 * - Fuzzy person-name matching (fuzzymatching=true, PS3.18 8.3.4.5): the query
 *   is split into words (on spaces, '^', ',' and '='); each word must match the
 *   start of some name component (or space-separated part of one),
 *   case-insensitively: `joh smi` finds `SMITH^JOHN`, `van` finds `VAN DER BERG^ANNA`.
 */
import { canonicalDate, canonicalTime, normalisePersonName } from './dicomValues.js';

/** A DICOM wildcard pattern as an anchored RegExp (`flags` e.g. 'u'). */
export function wildcardRegExp(pattern: string, anchoredEnd = true): RegExp {
  let source = '^';
  for (const c of pattern) {
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(source + (anchoredEnd ? '$' : ''), 'su');
}

/** A DICOM wildcard pattern as an SQLite LIKE pattern with '\\' as escape (LIKE ignores ASCII case, as Orthanc's matching does). */
export function wildcardLike(pattern: string): string {
  let like = '';
  for (const c of pattern) {
    if (c === '*') like += '%';
    else if (c === '?') like += '_';
    else if (c === '%' || c === '_' || c === '\\') like += '\\' + c;
    else like += c;
  }
  return like;
}

/** Upper case of ASCII letters only (what SQLite's NOCASE and LIKE fold). */
export function asciiUpper(value: string): string {
  return value.replace(/[a-z]+/g, (s) => s.toUpperCase());
}

export function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

// --- Person names --------------------------------------------------------------

type NameMatcher = (normalisedName: string) => boolean;

const matcherCache = new Map<string, NameMatcher>();

function groupsAndComponents(name: string): { groups: string[]; components: string[] } {
  const groups = name.split('=');
  const components = groups.flatMap((g) => g.split('^')).filter((c) => c !== '');
  return { groups, components };
}

/** A name group, and the same without its empty trailing components (`SMITH^JOHN^^` also as `SMITH^JOHN`). */
function forms(group: string): string[] {
  const trimmed = group.replace(/\^+$/, '');
  return trimmed === group ? [group] : [group, trimmed];
}

function compileNameMatcher(pattern: string, fuzzy: boolean): NameMatcher {
  const query = normalisePersonName(pattern);
  if (fuzzy) {
    const words = query.split(/[\s^=,]+/u).filter((w) => w !== '' && !/^\*+$/u.test(w));
    if (words.length === 0) return () => true;
    const regexps = words.map((w) => wildcardRegExp(w, false));
    return (name) => {
      const { components } = groupsAndComponents(name);
      const parts = [...components, ...components.flatMap((c) => (c.includes(' ') ? c.split(/\s+/u) : []))];
      return regexps.every((r) => parts.some((p) => r.test(p)));
    };
  }
  const whole = wildcardRegExp(query);
  const familyOnly = !query.includes('^') && !query.includes('=');
  return (name) => {
    if (forms(name).some((f) => whole.test(f))) return true;
    const groups = name.split('=');
    if (groups.length > 1 && groups.some((g) => forms(g).some((f) => whole.test(f)))) return true;
    return familyOnly && groups.some((g) => whole.test(g.split('^')[0]!));
  };
}

/** Does a person name (normalised: normalisePersonName) match the pattern? */
export function personNameMatches(normalisedName: string, pattern: string, fuzzy: boolean): boolean {
  const key = `${fuzzy ? 'f' : 'e'}${pattern}`;
  let matcher = matcherCache.get(key);
  if (!matcher) {
    if (matcherCache.size > 1000) matcherCache.clear();
    matcher = compileNameMatcher(pattern, fuzzy);
    matcherCache.set(key, matcher);
  }
  return matcher(normalisedName);
}

// --- Dates and times -------------------------------------------------------------

const DA = /^\d{8}$/;
const TM = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;
const DT = /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/;

export function isDate(value: string): boolean {
  return DA.test(value);
}
export function isTime(value: string): boolean {
  return TM.test(value);
}
export function isDateTime(value: string): boolean {
  return DT.test(value);
}

const TIME_UPPER = '235959.999999';
const DATETIME_LOWER = '00000101000000';
const DATETIME_UPPER = '99991231235959.999999';

function stripOffset(dt: string): string {
  return dt.replace(/[+-]\d{4}$/, '');
}

/** Lower and upper canonical bounds of a value of the VR at its precision (TM `1015` spans 101500 to 101559.999999). */
export function boundsOf(vr: string, value: string): { from: string; to: string } {
  switch (vr) {
    case 'DA':
      return { from: canonicalDate(value), to: canonicalDate(value) };
    case 'TM':
      return { from: canonicalTime(value), to: value + TIME_UPPER.slice(value.length) };
    default: {
      const v = stripOffset(value);
      return { from: v + DATETIME_LOWER.slice(v.length), to: v + DATETIME_UPPER.slice(v.length) };
    }
  }
}

/** A stored value of the VR in the canonical form the bounds compare with ('' when empty). */
export function canonicalTemporal(vr: string, value: string): string {
  const v = value.trim();
  if (v === '') return '';
  if (vr === 'DA') return canonicalDate(v);
  if (vr === 'TM') return canonicalTime(v);
  const dt = stripOffset(v);
  return dt + DATETIME_LOWER.slice(dt.length);
}

export function inRange(canonical: string, from: string, to: string): boolean {
  return canonical !== '' && (from === '' || canonical >= from) && (to === '' || canonical <= to);
}
