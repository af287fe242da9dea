/**
 * The STOW-RS client's input: Orthanc identifiers of local patients, studies,
 * series or instances (as the Orthanc DICOMweb plugin's /stow takes them),
 * resolved to the instances to send, from the store's index (no file read).
 * The order is kept (patient → studies → series → instances, as the store
 * lists children); an instance named twice is sent once.
 */
import { AppError } from '../errors.js';
import type { Store } from '../store/types.js';

/** One local instance to send. */
export interface StowInstance {
  /** Local Orthanc ID. */
  id: string;
  sopInstanceUID: string;
  sopClassUID: string;
  /** The stored Part-10 file. */
  path: string;
  size: number;
}

export function resolveStowResources(store: Store, ids: string[], what: string): StowInstance[] {
  const out: StowInstance[] = [];
  const seen = new Set<string>();

  const addInstance = (id: string, parent: string) => {
    if (seen.has(id)) return;
    const stored = store.getInstance(id);
    // A child listed by the index but gone: deleted meanwhile.
    if (!stored) throw new AppError('not-found', `${what}: instance ${id} of ${parent} is no longer in the local store`);
    seen.add(id);
    out.push({ id, sopInstanceUID: stored.sopInstanceUID, sopClassUID: stored.sopClassUID, path: stored.path, size: stored.size });
  };
  const addSeries = (id: string, parent: string) => {
    const series = store.getResource('series', id);
    if (!series) throw new AppError('not-found', `${what}: series ${id} of ${parent} is no longer in the local store`);
    for (const instance of series.Instances ?? []) addInstance(instance, `series ${id}`);
  };
  const addStudy = (id: string, parent: string) => {
    const study = store.getResource('study', id);
    if (!study) throw new AppError('not-found', `${what}: study ${id} of ${parent} is no longer in the local store`);
    for (const series of study.Series ?? []) addSeries(series, `study ${id}`);
  };

  for (const id of ids) {
    if (store.getInstance(id)) {
      addInstance(id, 'the request');
    } else if (store.getResource('series', id)) {
      addSeries(id, 'the request');
    } else if (store.getResource('study', id)) {
      addStudy(id, 'the request');
    } else {
      const patient = store.getResource('patient', id);
      if (!patient) {
        throw new AppError('not-found', `${what}: unknown resource ${JSON.stringify(id)}: no patient, study, series or instance of the local store has this Orthanc identifier`);
      }
      for (const study of patient.Studies ?? []) addStudy(study, `patient ${id}`);
    }
  }
  return out;
}
