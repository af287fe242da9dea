import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { StoreOutcome } from '../../../main/store/types.js';
import { sample } from '../../support/samples.js';
import { synthStudy } from '../../support/synth.js';
import { tempStore, type TempStore } from './tempStore.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore('store-orthanc-');
});
afterEach(() => t.cleanup());

function ok(outcome: StoreOutcome | undefined) {
  if (!outcome?.ok) throw new Error(`not stored: ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Values as written in the file, read by pydicom (the independent oracle): keyword -> text. */
function pydicomStrings(path: string, keywords: string[]): Record<string, string> {
  const script = `
import json, sys, pydicom
from pydicom.multival import MultiValue
ds = pydicom.dcmread(sys.argv[1])
out = {}
for kw in sys.argv[2:]:
    if kw in ds:
        v = ds[kw].value
        vals = list(v) if isinstance(v, MultiValue) else ([] if v in (None, '') else [v])
        out[kw] = '\\\\'.join(getattr(x, 'original_string', None) or str(x) for x in vals)
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path, ...keywords], { encoding: 'utf8' })) as Record<string, string>;
}

describe('Orthanc resources', () => {
  test('each level shows its main DICOM tags, its parent and its children', async () => {
    const files = synthStudy({ key: 'res', patientID: 'R1', patientName: 'RESOURCE^ROSE', series: 2, instancesPerSeries: 2, modality: 'MR' });
    const outcomes = (await t.store.storeInstances(files)).map(ok);
    const ids = outcomes[0]!.ids;

    const patient = t.store.getResource('patient', ids.patient)!;
    expect(patient).toMatchObject({ ID: ids.patient, Type: 'Patient', Studies: [ids.study], IsStable: false });
    expect(patient.MainDicomTags).toEqual({ PatientName: 'RESOURCE^ROSE', PatientID: 'R1', PatientBirthDate: '19700101', PatientSex: 'O' });
    expect(patient.LastUpdate).toMatch(/^\d{8}T\d{6}$/);

    const study = t.store.getResource('study', ids.study)!;
    expect(study).toMatchObject({ Type: 'Study', ParentPatient: ids.patient, PatientMainDicomTags: patient.MainDicomTags });
    expect(study.Series).toEqual([...new Set(outcomes.map((o) => o.ids.series))]);
    expect(study.MainDicomTags).toMatchObject({ StudyDate: '20240102', StudyTime: '101500', AccessionNumber: 'ACC0001', StudyID: 'S1' });

    const series = t.store.getResource('series', ids.series)!;
    expect(series).toMatchObject({ Type: 'Series', ParentStudy: ids.study, Instances: [ids.instance, outcomes[1]!.ids.instance] });
    expect(series.MainDicomTags).toMatchObject({ Modality: 'MR', SeriesNumber: '1', SeriesInstanceUID: outcomes[0]!.seriesInstanceUID });

    const instance = t.store.getResource('instance', ids.instance)!;
    expect(instance).toMatchObject({ Type: 'Instance', ParentSeries: ids.series, FileSize: files[0]!.length, IndexInSeries: 1 });
    expect(instance.MainDicomTags).toMatchObject({ SOPInstanceUID: outcomes[0]!.sopInstanceUID, InstanceNumber: '1' });
    expect(instance.FileUuid).toMatch(/^[0-9a-f-]{36}$/);

    expect(t.store.getResource('study', ids.patient)).toBeUndefined();
  });

  test('decimal strings keep the text written in the file, as Orthanc shows them', async () => {
    const path = sample('CT_small.dcm');
    const { ids } = ok((await t.store.storeInstances([readFileSync(path)]))[0]);
    const written = pydicomStrings(path, ['ImagePositionPatient', 'ImageOrientationPatient', 'InstanceNumber', 'AcquisitionNumber']);
    expect(written.ImageOrientationPatient).toContain('.000000'); // the sample's formatting, lost by JSON numbers
    const instance = t.store.getResource('instance', ids.instance)!;
    expect(instance.MainDicomTags).toMatchObject(written);
    expect(t.store.getResource('series', ids.series)!.MainDicomTags.ImageOrientationPatient).toBe(written.ImageOrientationPatient);
  });

  test('listing is oldest first, with since and limit', async () => {
    const files = synthStudy({ key: 'list', patientID: 'L1', patientName: 'LIST^ME', series: 1, instancesPerSeries: 5 });
    const outcomes = (await t.store.storeInstances(files)).map(ok);
    const all = outcomes.map((o) => o.ids.instance);
    expect(t.store.listResources('instance')).toEqual(all);
    expect(t.store.listResources('instance', { since: 1, limit: 2 })).toEqual(all.slice(1, 3));
    expect(t.store.listResources('instance', { since: 4 })).toEqual(all.slice(4));
    expect(t.store.listResources('study')).toEqual([outcomes[0]!.ids.study]);
  });

  test('deleting removes files and index rows, and parents left empty, naming the remaining ancestor', async () => {
    const a = (await t.store.storeInstances(synthStudy({ key: 'delA', patientID: 'D1', patientName: 'DEL^A', series: 2, instancesPerSeries: 2 }))).map(ok);
    const b = (await t.store.storeInstances(synthStudy({ key: 'delB', patientID: 'D1', patientName: 'DEL^A', series: 1, instancesPerSeries: 1 }))).map(ok);
    const pathOf = (id: string) => t.store.getInstance(id)!.path;

    // One instance of a series with two: the series remains.
    const p0 = pathOf(a[0]!.ids.instance);
    expect(t.store.deleteResource('instance', a[0]!.ids.instance)).toEqual({
      deleted: true,
      remainingAncestor: { Type: 'Series', ID: a[0]!.ids.series, Path: `/series/${a[0]!.ids.series}` },
    });
    expect(existsSync(p0)).toBe(false);
    expect(t.store.getInstance(a[0]!.ids.instance)).toBeUndefined();

    // The last instance of that series: the series goes, the study (with another series) remains.
    expect(t.store.deleteResource('instance', a[1]!.ids.instance).remainingAncestor).toEqual({
      Type: 'Study',
      ID: a[0]!.ids.study,
      Path: `/studies/${a[0]!.ids.study}`,
    });
    expect(t.store.getResource('series', a[0]!.ids.series)).toBeUndefined();

    // A whole study: the patient keeps study B.
    const p2 = pathOf(a[2]!.ids.instance);
    expect(t.store.deleteResource('study', a[0]!.ids.study).remainingAncestor).toMatchObject({ Type: 'Patient', ID: a[0]!.ids.patient });
    expect(existsSync(p2)).toBe(false);
    expect(t.store.statistics()).toMatchObject({ CountPatients: 1, CountStudies: 1, CountSeries: 1, CountInstances: 1 });

    // The last series of the last study of the patient: everything goes.
    const p3 = pathOf(b[0]!.ids.instance);
    expect(t.store.deleteResource('series', b[0]!.ids.series)).toEqual({ deleted: true, remainingAncestor: null });
    expect(existsSync(p3)).toBe(false);
    expect(t.store.statistics()).toEqual({ CountPatients: 0, CountStudies: 0, CountSeries: 0, CountInstances: 0, TotalDiskSize: 0 });
    expect(t.store.deleteResource('series', b[0]!.ids.series)).toEqual({ deleted: false, remainingAncestor: null });
  });

  test('deleting a patient removes all its studies; statistics count resources and bytes', async () => {
    const x = (await t.store.storeInstances(synthStudy({ key: 'px1', patientID: 'PX', patientName: 'P^X', series: 1, instancesPerSeries: 2 }))).map(ok);
    await t.store.storeInstances(synthStudy({ key: 'px2', patientID: 'PX', patientName: 'P^X', series: 2, instancesPerSeries: 1 }));
    const y = (await t.store.storeInstances(synthStudy({ key: 'py', patientID: 'PY', patientName: 'P^Y', series: 1, instancesPerSeries: 3 }))).map(ok);
    const sizes = y.map((o) => t.store.getInstance(o.ids.instance)!.size);
    expect(t.store.statistics()).toMatchObject({ CountPatients: 2, CountStudies: 3, CountSeries: 4, CountInstances: 7 });
    expect(t.store.deleteResource('patient', x[0]!.ids.patient)).toEqual({ deleted: true, remainingAncestor: null });
    expect(t.store.statistics()).toEqual({
      CountPatients: 1,
      CountStudies: 1,
      CountSeries: 1,
      CountInstances: 3,
      TotalDiskSize: sizes.reduce((s, n) => s + n, 0),
    });
    expect(t.store.listResources('patient')).toEqual([y[0]!.ids.patient]);
  });
});
