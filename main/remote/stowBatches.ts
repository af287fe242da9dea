/**
 * How a STOW-RS client call is cut into HTTP requests (the Orthanc DICOMweb
 * plugin's DicomWeb.StowMaxInstances and DicomWeb.StowMaxSize, in MB; 0 = no
 * limit, both 0 = one request). A request holds as many instances as fit
 * under both limits; an instance bigger than StowMaxSize goes alone. With
 * ChunkedTransfers the whole call is one streamed request (no split).
 */
import { stowEndCost, stowPartCost } from './stowBody.js';
import type { StowInstance } from './stowResources.js';

export interface StowLimits {
  /** Instances per request; 0 = no limit. */
  maxInstances: number;
  /** Body bytes per request; 0 = no limit. */
  maxBytes: number;
}

export function stowLimits(stowMaxInstances: number, stowMaxSizeMB: number): StowLimits {
  return { maxInstances: Math.max(0, stowMaxInstances), maxBytes: Math.max(0, stowMaxSizeMB) * 1024 * 1024 };
}

/** Consecutive slices of `instances`, one per request (empty input: none). */
export function planStowRequests(instances: StowInstance[], limits: StowLimits, boundary: string): StowInstance[][] {
  const batches: StowInstance[][] = [];
  const end = stowEndCost(boundary);
  let batch: StowInstance[] = [];
  let bytes = end;
  for (const instance of instances) {
    const cost = stowPartCost(instance, boundary);
    const full =
      batch.length > 0 &&
      ((limits.maxInstances > 0 && batch.length >= limits.maxInstances) || (limits.maxBytes > 0 && bytes + cost > limits.maxBytes));
    if (full) {
      batches.push(batch);
      batch = [];
      bytes = end;
    }
    batch.push(instance);
    bytes += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
