/**
 * How a STOW-RS client call is cut into HTTP requests (the Orthanc DICOMweb
 * plugin's DicomWeb.StowMaxInstances and DicomWeb.StowMaxSize, in MB; 0 = no
 * limit, both 0 = one request). A request holds as many instances as fit
 * under both limits; an instance bigger than StowMaxSize goes alone. With
 * ChunkedTransfers the limits do not apply (as in Orthanc): each request is
 * streamed without a declared length, and a large call is cut into a few
 * requests of similar size sent side by side (planChunkedRequests), because a
 * server stores the instances of one request one after the other — one request
 * of 1,000 instances kept an Orthanc on one core.
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

/** Bytes below which a chunked call is not worth a second request. */
export const CHUNKED_REQUEST_MIN_BYTES = 4 * 1024 * 1024;

/**
 * ChunkedTransfers: up to `lanes` consecutive slices of similar byte size, each at
 * least CHUNKED_REQUEST_MIN_BYTES (so a small call stays one request); order kept.
 */
export function planChunkedRequests(instances: StowInstance[], lanes: number, boundary: string): StowInstance[][] {
  if (instances.length === 0) return [];
  const costs = instances.map((i) => stowPartCost(i, boundary));
  const total = costs.reduce((a, b) => a + b, 0);
  const count = Math.max(1, Math.min(lanes, instances.length, Math.floor(total / CHUNKED_REQUEST_MIN_BYTES)));
  const out: StowInstance[][] = [];
  let slice: StowInstance[] = [];
  let sent = 0;
  instances.forEach((instance, k) => {
    slice.push(instance);
    sent += costs[k]!;
    // Close a slice once the bytes so far reach its share of the total.
    if (out.length < count - 1 && sent >= (total * (out.length + 1)) / count) {
      out.push(slice);
      slice = [];
    }
  });
  if (slice.length > 0) out.push(slice);
  return out;
}
