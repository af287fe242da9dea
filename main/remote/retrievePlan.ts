/**
 * What a retrieve downloads, as a list of WADO-RS requests (PS3.18 10.4.1,
 * "Retrieve Instances" at study, series or instance level): a study is split
 * into its series, listed with QIDO-RS (PS3.18 10.6, `studies/{s}/series`), so
 * that series can be fetched in parallel and the number of instances to expect
 * (NumberOfSeriesRelatedInstances, 0020,1209) gives the progress total. When
 * the server cannot list the series (400/404/405/501, or an empty list), the
 * study is fetched in one request.
 */
import { eachLimited } from './limited.js';
import type { RetrieveRequest, RetrieveResource } from './retrieveRequest.js';
import type { RemoteClient } from './types.js';

export interface RetrieveUnit {
  /** WADO-RS path relative to the server's Url: studies/{s}[/series/{se}[/instances/{i}]]. */
  path: string;
  /** Instances expected, when the server said (QIDO) or when it is one instance. */
  expected?: number;
}

/** Statuses of a QIDO listing after which fetching the whole study still makes sense. */
const CANNOT_LIST = new Set([400, 404, 405, 501]);

const SERIES_UID = '0020000E'; // SeriesInstanceUID
const SERIES_INSTANCES = '00201209'; // NumberOfSeriesRelatedInstances

interface SeriesListing {
  uid: string;
  count?: number;
}

/** The WADO-RS requests of one resource: a study becomes its series. */
async function planResource(client: RemoteClient, request: RetrieveRequest, resource: RetrieveResource, signal: AbortSignal): Promise<RetrieveUnit[]> {
  const study = `studies/${resource.Study}`;
  if (resource.Series !== undefined && resource.Instance !== undefined) {
    return [{ path: `${study}/series/${resource.Series}/instances/${resource.Instance}`, expected: 1 }];
  }
  if (resource.Series !== undefined) {
    // The count is only for progress: any failure here leaves it unknown (the WADO-RS request will report real errors).
    const listing = await listSeries(client, request, resource.Study, signal, resource.Series).catch((err: unknown) => {
      if (signal.aborted) throw err;
      return undefined;
    });
    const count = listing?.find((s) => s.uid === resource.Series)?.count;
    return [{ path: `${study}/series/${resource.Series}`, ...(count !== undefined ? { expected: count } : {}) }];
  }
  const series = await listSeries(client, request, resource.Study, signal);
  if (!series || series.length === 0) return [{ path: study }];
  return series.map((s) => ({ path: `${study}/series/${s.uid}`, ...(s.count !== undefined ? { expected: s.count } : {}) }));
}

/** First value of a DICOM JSON attribute. */
function firstValue(dataset: unknown, tag: string): unknown {
  const attribute = (dataset as Record<string, { Value?: unknown[] } | undefined>)?.[tag];
  return Array.isArray(attribute?.Value) ? attribute.Value[0] : undefined;
}

/** QIDO-RS `studies/{s}/series` (optionally one series): the series and their instance counts; undefined when the server cannot list them. */
async function listSeries(
  client: RemoteClient,
  request: RetrieveRequest,
  study: string,
  signal: AbortSignal,
  seriesUid?: string,
): Promise<SeriesListing[] | undefined> {
  const path = `studies/${study}/series`;
  const answer = await client.fetchBuffer(
    {
      method: 'GET',
      path,
      query: { ...request.query, ...(seriesUid ? { SeriesInstanceUID: seriesUid } : {}) },
      headers: { ...request.headers, Accept: 'application/dicom+json' },
      signal,
    },
    (status) => status < 400 || CANNOT_LIST.has(status),
  );
  if (CANNOT_LIST.has(answer.status)) return undefined;
  if (answer.status === 204 || answer.body.length === 0) return [];
  let datasets: unknown;
  try {
    datasets = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined; // not DICOM JSON: fetch the study whole rather than fail here
  }
  if (!Array.isArray(datasets)) return undefined;
  const out: SeriesListing[] = [];
  for (const dataset of datasets) {
    const uid = firstValue(dataset, SERIES_UID);
    // The UID goes into a URL path: anything but a UID and the study is fetched whole instead.
    if (typeof uid !== 'string' || !isUid(uid)) return undefined;
    const raw = firstValue(dataset, SERIES_INSTANCES);
    const count = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : undefined;
    out.push(count === undefined ? { uid } : { uid, count });
  }
  return out;
}

/** The WADO-RS requests of a retrieve, each path once, in the order asked; `parallel` QIDO requests at a time. */
export async function planRetrieve(client: RemoteClient, request: RetrieveRequest, abort: AbortController, parallel: number): Promise<RetrieveUnit[]> {
  const planned: RetrieveUnit[][] = [];
  await eachLimited(request.resources, parallel, abort, async (resource, index, signal) => {
    planned[index] = await planResource(client, request, resource, signal);
  });
  const seen = new Set<string>();
  const units: RetrieveUnit[] = [];
  for (const unit of planned.flat()) {
    if (seen.has(unit.path)) continue;
    seen.add(unit.path);
    units.push(unit);
  }
  return units;
}

/** Total instances expected, when every unit says. */
export function expectedTotal(units: RetrieveUnit[]): number | undefined {
  let total = 0;
  for (const unit of units) {
    if (unit.expected === undefined) return undefined;
    total += unit.expected;
  }
  return total;
}

/** Digits and dots, at most 64 characters (PS3.5 9.1). */
function isUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}
