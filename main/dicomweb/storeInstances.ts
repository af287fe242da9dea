/**
 * STOW-RS Store Instances (PS3.18 10.5):
 *   POST {Root}studies and POST {Root}studies/{study}
 * Request: multipart/related; type="application/dicom", one Part-10 instance
 * per part (metadata + bulk data representations, application/dicom+json or
 * +xml, are not supported: 415). The body is read as a stream; each instance
 * is parsed and written to a temp file as soon as its part is complete, while
 * the next parts arrive, and batches of them are made durable and indexed
 * together (store/ingest.ts); one bad part never stops the others.
 * Response (PS3.18 10.5.3, Table 10.5.3-1; DICOM JSON, or XML when asked):
 * RetrieveURL of the study, ReferencedSOPSequence (stored, including
 * instances already stored), FailedSOPSequence with FailureReason. Status:
 * 200 all stored, 202 some failed, 409 none stored, 400 broken multipart
 * (what was stored before the break is kept and reported), 415 media type.
 */
import { datasetToXml } from '../dicom/xml.js';
import type { DicomJsonDataset } from '../dicom/types.js';
import { AppError, asAppError } from '../errors.js';
import { requestBodyStream } from '../http/rawBody.js';
import { parseUid } from '../http/validate.js';
import type { Store, StoreBatch, StoreFailureReason, StoreOutcome } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, studyUrl, type Transaction } from './context.js';
import { parseMediaType } from './mediaType.js';
import { checkBoundary, readMultipart } from './multipart.js';
import { stringifyDataset } from '../dicom/datasetJson.js';

/** A batch is committed (one fsync round) when it has this many instances… */
const BATCH_INSTANCES = 64;
/** …or this many bytes. */
const BATCH_BYTES = 64 * 1024 * 1024;
/** Reading the body pauses while more than this is waiting to be written to disk. */
const MAX_UNWRITTEN_BYTES = 32 * 1024 * 1024;
/** Largest instance taken (it is held in memory while stored). */
const MAX_INSTANCE_BYTES = 1024 * 1024 * 1024;

/** FailureReason (0008,1197) values (PS3.18 Table 10.5.3-2, PS3.4 Annex GG). */
export const FAILURE_REASON = {
  cannotUnderstand: 0xc000, // Error: cannot understand (not DICOM, not application/dicom)
  dataSetDoesNotMatch: 0xa900, // Error: data set does not match SOP class (missing or incoherent UIDs)
  studyMismatch: 0xc409, // instance not in the study named in the URL
  outOfResources: 0xa700, // Refused: out of resources (storage, size)
} as const;

const REASON_OF_STORE_FAILURE: Record<StoreFailureReason, number> = {
  'bad-dicom': FAILURE_REASON.cannotUnderstand,
  'missing-uid': FAILURE_REASON.dataSetDoesNotMatch,
  'study-mismatch': FAILURE_REASON.studyMismatch,
  io: FAILURE_REASON.outOfResources,
};

const JSON_OFFER: Offer = { mediaType: 'application/dicom+json', aliases: ['application/json'] };
const XML_OFFER: Offer = { mediaType: 'application/dicom+xml', aliases: ['application/xml', 'text/xml'] };

interface Stored {
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  alreadyStored: boolean;
}

interface Failed {
  sopClassUID?: string;
  sopInstanceUID?: string;
  reason: number;
  /** Why, for the log and tests; not part of the DICOM answer. */
  message: string;
}

/** Checks the request Content-Type; returns the boundary. */
function boundaryOf(contentType: string | undefined): string {
  const expected = 'multipart/related; type="application/dicom"';
  if (!contentType) throw new AppError('unsupported-media-type', `STOW-RS needs Content-Type ${expected}; the request has none`);
  const { mediaType, params } = parseMediaType(contentType);
  if (mediaType !== 'multipart/related') {
    throw new AppError('unsupported-media-type', `STOW-RS takes ${expected}, got Content-Type ${JSON.stringify(contentType)}`);
  }
  const type = params.type?.toLowerCase();
  if (type === 'application/dicom+json' || type === 'application/dicom+xml' || type === 'application/json' || type === 'application/xml') {
    throw new AppError(
      'unsupported-media-type',
      `STOW-RS of metadata with bulk data (type="${type}") is not supported; send Part-10 instances as ${expected}`,
    );
  }
  if (type !== undefined && type !== 'application/dicom') {
    throw new AppError('unsupported-media-type', `STOW-RS takes ${expected}, got type="${params.type}"`);
  }
  return checkBoundary(params.boundary);
}

/** Failure of a part that never reached the store (wrong part type, too big). */
function partFailure(headers: Record<string, string>, size: number | undefined, index: number): Failed | undefined {
  if (size !== undefined) {
    return { reason: FAILURE_REASON.outOfResources, message: `part ${index} is ${size} bytes, more than the ${MAX_INSTANCE_BYTES} accepted per instance` };
  }
  const type = headers['content-type'];
  if (type !== undefined && parseMediaType(type).mediaType !== 'application/dicom') {
    return { reason: FAILURE_REASON.cannotUnderstand, message: `part ${index} has Content-Type ${JSON.stringify(type)}, not application/dicom` };
  }
  return undefined;
}

/**
 * Collects parts into store batches: each part goes to the open batch as soon
 * as it is read (the store parses it and writes its temp file while the next
 * parts arrive); a full batch is committed while the next one fills.
 */
class BatchStorer {
  readonly stored: Stored[] = [];
  readonly failed: Failed[] = [];
  private batch: StoreBatch | undefined;
  private batchBytes = 0;
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly studyInstanceUID: string | undefined,
  ) {}

  /** `chunks`: the part's body as it arrived, `size` bytes (the store joins it only if it must). */
  async add(chunks: Buffer[], size: number): Promise<void> {
    this.batch ??= this.store.beginBatch(this.studyInstanceUID ? { studyInstanceUID: this.studyInstanceUID } : undefined);
    try {
      this.batch.add(chunks);
    } catch (err) {
      this.failed.push({ reason: FAILURE_REASON.outOfResources, message: asAppError(err).message });
      return;
    }
    this.batchBytes += size;
    if (this.batch.size >= BATCH_INSTANCES || this.batchBytes >= BATCH_BYTES) await this.flush();
    else await this.batch.drained(MAX_UNWRITTEN_BYTES);
  }

  /** Commits the open batch once the previous one is committed (one batch committing while the next fills). */
  async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = undefined;
    this.batchBytes = 0;
    await this.committing;
    if (batch) this.committing = this.commit(batch);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.committing;
  }

  private async commit(batch: StoreBatch): Promise<void> {
    let outcomes: StoreOutcome[];
    try {
      outcomes = await batch.commit();
    } catch (err) {
      const message = asAppError(err).message;
      for (let i = 0; i < batch.size; i++) this.failed.push({ reason: FAILURE_REASON.outOfResources, message });
      return;
    }
    for (const outcome of outcomes) {
      if (outcome.ok) {
        this.stored.push({
          sopClassUID: outcome.sopClassUID,
          sopInstanceUID: outcome.sopInstanceUID,
          studyInstanceUID: outcome.studyInstanceUID,
          seriesInstanceUID: outcome.seriesInstanceUID,
          alreadyStored: outcome.status === 'AlreadyStored',
        });
      } else {
        this.failed.push({
          sopClassUID: outcome.sopClassUID,
          sopInstanceUID: outcome.sopInstanceUID,
          reason: REASON_OF_STORE_FAILURE[outcome.reason],
          message: outcome.message,
        });
      }
    }
  }
}

const ui = (value: string) => ({ vr: 'UI', Value: [value] });
const ur = (value: string) => ({ vr: 'UR', Value: [value] });
const us = (value: number) => ({ vr: 'US', Value: [value] });

/** The Store Instances Response Module (PS3.18 Table 10.5.3-1) as DICOM JSON. */
function responseDataset(base: string, urlStudy: string | undefined, stored: Stored[], failed: Failed[]): DicomJsonDataset {
  const dataset: DicomJsonDataset = {};
  const studies = new Set(stored.map((s) => s.studyInstanceUID));
  const study = urlStudy ?? (studies.size === 1 ? [...studies][0] : undefined);
  if (study !== undefined && stored.length > 0) dataset['00081190'] = ur(studyUrl(base, study)); // RetrieveURL
  if (failed.length > 0) {
    dataset['00081198'] = {
      // FailedSOPSequence
      vr: 'SQ',
      Value: failed.map((f) => {
        const item: DicomJsonDataset = {};
        item['00081150'] = f.sopClassUID ? ui(f.sopClassUID) : { vr: 'UI' }; // ReferencedSOPClassUID
        item['00081155'] = f.sopInstanceUID ? ui(f.sopInstanceUID) : { vr: 'UI' }; // ReferencedSOPInstanceUID
        item['00081197'] = us(f.reason); // FailureReason
        return item;
      }),
    };
  }
  if (stored.length > 0) {
    dataset['00081199'] = {
      // ReferencedSOPSequence
      vr: 'SQ',
      Value: stored.map((s) => ({
        '00081150': ui(s.sopClassUID), // ReferencedSOPClassUID
        '00081155': ui(s.sopInstanceUID), // ReferencedSOPInstanceUID
        '00081190': ur(instanceUrl(base, s.studyInstanceUID, s.seriesInstanceUID, s.sopInstanceUID)), // RetrieveURL
      })),
    };
  }
  return dataset;
}

export const storeInstances: Transaction = async (request, reply, ctx) => {
  const params = request.params as Record<string, string | undefined>;
  const urlStudy = params.study === undefined ? undefined : parseUid(params.study, 'StudyInstanceUID in the URL');
  // The answer format: DICOM JSON unless XML is preferred; like Orthanc, an Accept we cannot meet gets JSON.
  let xml = false;
  try {
    xml = negotiate(requestAccept(request), [JSON_OFFER, XML_OFFER], 'STOW-RS response').offer === XML_OFFER;
  } catch {
    xml = false;
  }
  const boundary = boundaryOf(request.headers['content-type']);
  const body = requestBodyStream(request, 'STOW-RS');

  const storer = new BatchStorer(ctx.store, urlStudy);
  let parts = 0;
  let broken: AppError | undefined;
  try {
    // destroyOnReturn false: a broken body must not destroy the request, the answer still has to go out.
    const chunks = body.iterator({ destroyOnReturn: false });
    for await (const part of readMultipart(chunks, boundary, { maxPartSize: MAX_INSTANCE_BYTES })) {
      parts++;
      const failure = partFailure(part.headers, part.oversize, parts);
      if (failure) storer.failed.push(failure);
      else await storer.add(part.chunks, part.size);
    }
  } catch (err) {
    if (!(err instanceof AppError) && (body.destroyed || (err as NodeJS.ErrnoException).code === 'ECONNRESET')) {
      // The client went away: what was stored stays stored; nobody is left to answer.
      await storer.finish().catch(() => undefined);
      throw new AppError('cancelled', `STOW-RS: the client closed the connection after ${parts} part${parts === 1 ? '' : 's'}`);
    }
    const error = asAppError(err);
    if (error.kind !== 'bad-request') {
      await storer.finish().catch(() => undefined);
      throw error;
    }
    broken = error;
    // Discard the rest of the body, so that the connection ends the request cleanly and can carry the answer.
    body.resume();
  }
  await storer.finish();

  const { stored, failed } = storer;
  if (!broken && parts === 0) broken = new AppError('bad-request', 'STOW-RS request has no parts (no instance to store)');
  const status = broken ? 400 : failed.length === 0 ? 200 : stored.length > 0 ? 202 : 409;

  const dataset = responseDataset(dicomWebBaseUrl(request, ctx.config), urlStudy, stored, failed);
  if (broken) {
    // Not a DICOM attribute: says what was wrong with the body (the stored instances are listed all the same).
    reply.header('Warning', `299 - ${JSON.stringify(broken.message.replace(/[^\x20-\x7e]/g, '?'))}`);
  }
  reply.code(status);
  if (xml) {
    reply.header('Content-Type', 'application/dicom+xml; charset=utf-8');
    return reply.send(datasetToXml(dataset));
  }
  reply.header('Content-Type', 'application/dicom+json; charset=utf-8');
  return reply.send(stringifyDataset(dataset));
};
