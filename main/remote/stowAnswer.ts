/**
 * Reads a remote's answer to a STOW-RS request (PS3.18 10.5.3, Table
 * 10.5.3-1, asked as application/dicom+json): which of the instances sent it
 * stored (ReferencedSOPSequence 0008,1199, with WarningReason 0008,1196) and
 * which it refused (FailedSOPSequence 0008,1198 with FailureReason 0008,1197),
 * mapped back to our local instances by SOP Instance UID.
 *
 * Statuses (PS3.18 10.5.3.1): 200 all stored, 202 some stored (or warnings),
 * 409 none stored. Orthanc 1.10 answers 400 when it refused some, with a
 * ReferencedSOPSequence of those it stored and an empty FailedSOPSequence: an
 * instance sent but listed in neither sequence counts as refused.
 */
import type { StowInstance } from './stowResources.js';

/** One instance in a STOW client result. */
export interface StowInstanceReport {
  /** Local Orthanc ID. */
  ID: string;
  SOPInstanceUID: string;
  /** FailedSOPSequence only: the remote's FailureReason, or null when it gave none. */
  FailureReason?: number | null;
  /** ReferencedSOPSequence: the remote's WarningReason, when it gave one. */
  WarningReason?: number;
  /** Why it was refused, in words. */
  Message?: string;
}

export interface StowAnswer {
  stored: StowInstanceReport[];
  failed: StowInstanceReport[];
  /** Things worth knowing that refuse nothing (an unreadable answer to a 200…). */
  warnings: string[];
}

/** Statuses whose body is a STOW-RS response dataset. */
export const STOW_ANSWER_STATUSES: ReadonlySet<number> = new Set([200, 202, 400, 409]);

/** FailureReason and WarningReason values (PS3.18 Table 10.5.3-2, PS3.4 Annex GG and B.2.3). */
const REASONS: Record<number, string> = {
  0xa700: 'Refused: out of resources',
  0xa900: 'Error: data set does not match SOP Class',
  0xc000: 'Error: cannot understand',
  0xc122: 'Referenced Transfer Syntax not supported',
  0x0110: 'Processing failure',
  0x0122: 'Referenced SOP Class not supported',
  0x0124: 'Not authorized',
  0x0111: 'Duplicate SOP Instance',
  0xb000: 'Coercion of data elements',
  0xb006: 'Elements discarded',
  0xb007: 'Data set does not match SOP Class',
};

export function describeReason(code: number): string {
  const hex = `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const known =
    REASONS[code] ??
    ((code & 0xff00) === 0xa700 ? 'Refused: out of resources' : (code & 0xff00) === 0xa900 ? 'Error: data set does not match SOP Class' : (code & 0xf000) === 0xc000 ? 'Error: cannot understand' : undefined);
  return known ? `${hex} (${known})` : hex;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An attribute of a DICOM JSON dataset, tag in upper or lower case hex. */
function attribute(dataset: Json, tag: string): Json | undefined {
  const a = dataset[tag] ?? dataset[tag.toLowerCase()];
  return isObject(a) ? a : undefined;
}

function items(dataset: Json, tag: string): Json[] {
  const value = attribute(dataset, tag)?.Value;
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function firstString(dataset: Json, tag: string): string | undefined {
  const value = attribute(dataset, tag)?.Value;
  const first = Array.isArray(value) ? value[0] : undefined;
  return typeof first === 'string' ? first.trim() : undefined;
}

function firstNumber(dataset: Json, tag: string): number | undefined {
  const value = attribute(dataset, tag)?.Value;
  const first = Array.isArray(value) ? value[0] : undefined;
  return typeof first === 'number' && Number.isFinite(first) ? first : undefined;
}

/** The STOW-RS response dataset in `body`, or undefined when it is not one (not JSON, no sequence of Table 10.5.3-1). */
export function parseStowDataset(body: Buffer): Json | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  // Some servers wrap the dataset in an array.
  if (Array.isArray(parsed) && parsed.length === 1) parsed = parsed[0];
  if (!isObject(parsed)) return undefined;
  return attribute(parsed, '00081199') || attribute(parsed, '00081198') ? parsed : undefined;
}

/**
 * What the remote did with `sent`, from its answer. `dataset` undefined: the
 * answer was no STOW-RS dataset, then only a 200 or 202 says "stored" (with a warning).
 */
export function readStowAnswer(status: number, dataset: Json | undefined, sent: StowInstance[]): StowAnswer {
  const warnings: string[] = [];
  if (!dataset) {
    warnings.push(`HTTP ${status} answer without a readable STOW-RS response (DICOM JSON with ReferencedSOPSequence): ${sent.length} instance(s) counted as stored`);
    return { stored: sent.map((i) => ({ ID: i.id, SOPInstanceUID: i.sopInstanceUID })), failed: [], warnings };
  }

  const byUid = new Map(sent.map((i) => [i.sopInstanceUID, i]));
  const reported = new Set<string>();
  const stored: StowInstanceReport[] = [];
  const failed: StowInstanceReport[] = [];
  let foreign = 0;

  for (const item of items(dataset, '00081198')) {
    const uid = firstString(item, '00081155'); // ReferencedSOPInstanceUID
    const instance = uid !== undefined ? byUid.get(uid) : undefined;
    if (!instance || reported.has(instance.sopInstanceUID)) {
      foreign++;
      continue;
    }
    reported.add(instance.sopInstanceUID);
    const reason = firstNumber(item, '00081197'); // FailureReason
    failed.push({
      ID: instance.id,
      SOPInstanceUID: instance.sopInstanceUID,
      FailureReason: reason ?? null,
      Message: reason !== undefined ? `refused by the remote: FailureReason ${describeReason(reason)}` : 'refused by the remote (no FailureReason given)',
    });
  }
  for (const item of items(dataset, '00081199')) {
    const uid = firstString(item, '00081155');
    const instance = uid !== undefined ? byUid.get(uid) : undefined;
    if (!instance || reported.has(instance.sopInstanceUID)) {
      if (!instance) foreign++;
      continue;
    }
    reported.add(instance.sopInstanceUID);
    const report: StowInstanceReport = { ID: instance.id, SOPInstanceUID: instance.sopInstanceUID };
    const warning = firstNumber(item, '00081196'); // WarningReason
    if (warning !== undefined) {
      report.WarningReason = warning;
      report.Message = `stored with WarningReason ${describeReason(warning)}`;
    }
    stored.push(report);
  }
  for (const instance of sent) {
    if (reported.has(instance.sopInstanceUID)) continue;
    failed.push({
      ID: instance.id,
      SOPInstanceUID: instance.sopInstanceUID,
      FailureReason: null,
      Message: `not in the remote's ReferencedSOPSequence (HTTP ${status}): not stored`,
    });
  }
  if (foreign > 0) warnings.push(`the answer lists ${foreign} SOP instance(s) that were not sent in that request`);
  const other = items(dataset, '0008119A').length; // OtherFailuresSequence
  if (other > 0) warnings.push(`the answer has ${other} item(s) in its OtherFailuresSequence (0008,119A)`);
  return { stored, failed, warnings };
}
