/**
 * Synthetic DICOM test data: Part-10 files written with dcmjs (explicit VR
 * little endian, 16-bit MONOCHROME2 pixels), for multi-instance series, name
 * search tests and benchmarks. Deterministic for the same spec.
 */
import dcmjs from 'dcmjs';

const { DicomDict } = dcmjs.data;

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const UID_ROOT = '1.2.826.0.1.3680043.10.1137';

export interface SynthInstanceSpec {
  patientID: string;
  patientName: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyInstanceUID: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  accessionNumber?: string;
  studyID?: string;
  referringPhysicianName?: string;
  seriesInstanceUID: string;
  seriesNumber?: number;
  seriesDescription?: string;
  modality?: string;
  sopInstanceUID: string;
  sopClassUID?: string;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
  /** Extra elements, DICOM JSON style: { '00181030': { vr: 'LO', Value: ['protocol'] } } */
  extra?: Record<string, { vr: string; Value: unknown[] }>;
}

const el = (vr: string, ...values: unknown[]) => ({ vr, Value: values });

/** One Part-10 instance as a Buffer. Pixel values are a gradient seeded by the instance number. */
export function synthInstance(spec: SynthInstanceSpec): Buffer {
  const rows = spec.rows ?? 64;
  const columns = spec.columns ?? 64;
  const sopClass = spec.sopClassUID ?? CT_IMAGE_STORAGE;
  const pixels = new Uint16Array(rows * columns);
  const seed = spec.instanceNumber ?? 1;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + seed * 13) & 0x0fff;

  const meta = {
    '00020001': el('OB', new Uint8Array([0, 1]).buffer),
    '00020002': el('UI', sopClass),
    '00020003': el('UI', spec.sopInstanceUID),
    '00020010': el('UI', EXPLICIT_VR_LE),
    '00020012': el('UI', `${UID_ROOT}.0.1`),
    '00020013': el('SH', 'SYNTH_TEST'),
  };
  const dataset: Record<string, { vr: string; Value: unknown[] }> = {
    '00080005': el('CS', 'ISO_IR 192'),
    '00080016': el('UI', sopClass),
    '00080018': el('UI', spec.sopInstanceUID),
    '00080020': el('DA', spec.studyDate ?? '20240102'),
    '00080030': el('TM', spec.studyTime ?? '101500'),
    '00080050': el('SH', spec.accessionNumber ?? 'ACC0001'),
    '00080060': el('CS', spec.modality ?? 'CT'),
    '00080090': el('PN', { Alphabetic: spec.referringPhysicianName ?? 'REFERRER^DOCTOR' }),
    '00081030': el('LO', spec.studyDescription ?? 'Synthetic study'),
    '0008103E': el('LO', spec.seriesDescription ?? 'Synthetic series'),
    '00100010': el('PN', { Alphabetic: spec.patientName }),
    '00100020': el('LO', spec.patientID),
    '00100030': el('DA', spec.patientBirthDate ?? '19700101'),
    '00100040': el('CS', spec.patientSex ?? 'O'),
    '0020000D': el('UI', spec.studyInstanceUID),
    '0020000E': el('UI', spec.seriesInstanceUID),
    '00200010': el('SH', spec.studyID ?? 'S1'),
    '00200011': el('IS', spec.seriesNumber ?? 1),
    '00200013': el('IS', spec.instanceNumber ?? 1),
    '00280002': el('US', 1),
    '00280004': el('CS', 'MONOCHROME2'),
    '00280010': el('US', rows),
    '00280011': el('US', columns),
    '00280030': el('DS', 0.5, 0.5),
    '00280100': el('US', 16),
    '00280101': el('US', 12),
    '00280102': el('US', 11),
    '00280103': el('US', 0),
    '00281050': el('DS', 2048),
    '00281051': el('DS', 4096),
    '7FE00010': el('OW', pixels.buffer),
    ...spec.extra,
  };
  const dict = new DicomDict(meta);
  dict.dict = dataset;
  return Buffer.from(dict.write());
}

export interface SynthStudySpec {
  /** Distinguishes generated UIDs; same key, same UIDs. */
  key: string;
  patientID: string;
  patientName: string;
  studyDate?: string;
  modality?: string;
  series: number;
  instancesPerSeries: number;
  rows?: number;
  columns?: number;
}

export function synthUid(...parts: Array<string | number>): string {
  // Numeric components only: hash the key into digits.
  const digits = parts
    .map((p) => (typeof p === 'number' ? String(p) : String(Array.from(p).reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000_007, 7))))
    .join('.');
  return `${UID_ROOT}.${digits}`;
}

/** A study of `series` x `instancesPerSeries` instances. */
export function synthStudy(spec: SynthStudySpec): Buffer[] {
  const studyUID = synthUid(spec.key, 1);
  const out: Buffer[] = [];
  for (let s = 1; s <= spec.series; s++) {
    const seriesUID = synthUid(spec.key, 2, s);
    for (let i = 1; i <= spec.instancesPerSeries; i++) {
      out.push(
        synthInstance({
          patientID: spec.patientID,
          patientName: spec.patientName,
          studyInstanceUID: studyUID,
          studyDate: spec.studyDate,
          seriesInstanceUID: seriesUID,
          seriesNumber: s,
          modality: spec.modality,
          sopInstanceUID: synthUid(spec.key, 3, s, i),
          instanceNumber: i,
          rows: spec.rows,
          columns: spec.columns,
        }),
      );
    }
  }
  return out;
}
