/**
 * A small catalogue of studies for search tests (store-level and over HTTP):
 * names, dates, times, modalities, descriptions and a few attributes without
 * index columns, chosen to exercise every matching rule. Plus the pydicom
 * sample chrH31.dcm (Japanese name in three groups).
 */
import { readFileSync } from 'node:fs';
import { sample } from '../../support/samples.js';
import { synthInstance, synthUid } from '../../support/synth.js';

export interface CatalogueStudy {
  key: string;
  patientName: string;
  patientID: string;
  studyDate: string;
  studyTime: string;
  description: string;
  accession: string;
  /** One series per modality, `instances` instances each. */
  modalities: string[];
  instances: number;
  institution?: string;
  protocol?: string;
  requestedProcedureID?: string;
}

export const CATALOGUE: CatalogueStudy[] = [
  { key: 'smith', patientName: 'SMITH^JOHN', patientID: 'S1', studyDate: '20240110', studyTime: '101500', description: 'Head CT', accession: 'A1', modalities: ['CT'], instances: 3, institution: 'General Hospital', protocol: 'HEAD_ROUTINE', requestedProcedureID: 'RP42' },
  { key: 'smithson', patientName: 'SMITHSON^ANNA', patientID: 'S2', studyDate: '20240115', studyTime: '083000', description: 'Knee MR', accession: 'A[2]', modalities: ['MR'], instances: 2, institution: 'City Clinic' },
  { key: 'vanderberg', patientName: 'VAN DER BERG^ANNA', patientID: 'V1', studyDate: '20231231', studyTime: '235959', description: 'Abdomen', accession: 'A3', modalities: ['CT', 'MR'], instances: 2, institution: 'General Hospital', protocol: 'ABDO' },
  { key: 'doe', patientName: 'DOE^JANE^^', patientID: 'D1', studyDate: '20240201', studyTime: '1015', description: 'Obstetric US', accession: 'A4', modalities: ['US'], instances: 1 },
  { key: 'obrien', patientName: "o'brien^mary", patientID: 'O1', studyDate: '20220505', studyTime: '120000', description: 'head ct lower case', accession: 'A5', modalities: ['CT'], instances: 1 },
];

export const studyUidOf = (key: string) => synthUid(`search-${key}`, 1);
export const seriesUidOf = (key: string, s: number) => synthUid(`search-${key}`, 2, s);
export const sopUidOf = (key: string, s: number, i: number) => synthUid(`search-${key}`, 3, s, i);

export const CHR_H31 = sample('chrH31.dcm');
export const CHR_H31_STUDY = '1.3.6.1.4.1.5962.1.2.0.1175775771.5702.0';

export function catalogueFiles(): Buffer[] {
  const files: Buffer[] = [];
  for (const c of CATALOGUE) {
    c.modalities.forEach((modality, s) => {
      for (let i = 1; i <= c.instances; i++) {
        const extra: Record<string, { vr: string; Value: unknown[] }> = {};
        if (c.institution) extra['00080080'] = { vr: 'LO', Value: [c.institution] }; // InstitutionName
        if (c.protocol) extra['00181030'] = { vr: 'LO', Value: [c.protocol] }; // ProtocolName
        if (c.requestedProcedureID) {
          extra['00400275'] = { vr: 'SQ', Value: [{ '00401001': { vr: 'SH', Value: [c.requestedProcedureID] } }] }; // RequestAttributesSequence > RequestedProcedureID
        }
        extra['00204000'] = { vr: 'LT', Value: [`image ${i} of ${c.key}`] }; // ImageComments
        files.push(
          synthInstance({
            patientID: c.patientID,
            patientName: c.patientName,
            studyInstanceUID: studyUidOf(c.key),
            studyDate: c.studyDate,
            studyTime: c.studyTime,
            studyDescription: c.description,
            accessionNumber: c.accession,
            seriesInstanceUID: seriesUidOf(c.key, s + 1),
            seriesNumber: s + 1,
            seriesDescription: `${modality} series`,
            modality,
            sopInstanceUID: sopUidOf(c.key, s + 1, i),
            instanceNumber: i,
            rows: 32 + i,
            columns: 32,
            extra,
          }),
        );
      }
    });
  }
  files.push(readFileSync(CHR_H31));
  return files;
}
