/**
 * The local store's contract: what the DICOMweb transactions, the Orthanc REST
 * subset, the import UI and (later) the remote engine may ask of it.
 * Implemented by main/store/openStore.ts (SQLite index + files on disk).
 * The store knows nothing of HTTP.
 */
import type { ByteRange, PixelLayout } from '../dicom/types.js';
import type { SearchMatch, SearchQuery } from './searchTypes.js';

export type Level = 'patient' | 'study' | 'series' | 'instance';

/** Orthanc identifiers of an instance and its parents. */
export interface ResourceIds {
  patient: string;
  study: string;
  series: string;
  instance: string;
}

export type StoreFailureReason =
  | 'bad-dicom' // cannot parse (STOW FailureReason 0xC000)
  | 'missing-uid' // SOP Class/Instance, Study or Series UID missing (0xA900-ish)
  | 'study-mismatch' // not in the study the STOW request named (0xC409-ish)
  | 'io'; // could not write (0xA700, out of resources)

export type StoreOutcome =
  | {
      ok: true;
      /** 'AlreadyStored': the SOP Instance UID was already in the store; the stored file is kept unchanged. */
      status: 'Success' | 'AlreadyStored';
      ids: ResourceIds;
      sopClassUID: string;
      sopInstanceUID: string;
      studyInstanceUID: string;
      seriesInstanceUID: string;
      transferSyntaxUID: string;
    }
  | {
      ok: false;
      reason: StoreFailureReason;
      message: string;
      sopClassUID?: string;
      sopInstanceUID?: string;
    };

/** One stored instance, as the WADO transactions need it (from the index, no file read). */
export interface StoredInstance {
  ids: ResourceIds;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  sopClassUID: string;
  transferSyntaxUID: string;
  instanceNumber: number | null;
  /** Absolute path of the stored Part-10 file. */
  path: string;
  /** File size in bytes. */
  size: number;
  pixel: PixelLayout | null;
  bulk: Record<string, ByteRange>;
  deflated: boolean;
  bigEndian: boolean;
}

/** One instance's stored dataset for WADO-RS metadata (from the index, no file read). */
export interface InstanceMetadata {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  /** DICOM JSON text of the dataset; bulk data URIs start with INSTANCE_URL_TOKEN. */
  json: string;
}

/** What a WADO-RS retrieve needs of an instance: the UIDs of its URL and its stored file (from the index). */
export interface StoredFileRef {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  transferSyntaxUID: string;
  /** Absolute path of the stored Part-10 file. */
  path: string;
  /** File size in bytes. */
  size: number;
}

/** Selects instances by DICOM UIDs (WADO-RS paths). */
export interface UidSelector {
  study: string;
  series?: string;
  instance?: string;
}

/**
 * Counts of an import. Files on disk, ZIP entries and files named by a DICOMDIR
 * all count as files; a ZIP entry's path is `archive.zip!folder/name`.
 * filesSeen = stored + alreadyStored + skippedNotDicom + dicomdirs + failed.
 */
export interface ImportProgress {
  filesSeen: number;
  stored: number;
  alreadyStored: number;
  /** Not DICOM (or a raw dataset that does not parse): skipped, not a failure. */
  skippedNotDicom: number;
  /** DICOMDIR files met: a medium's index, not an instance, never stored. */
  dicomdirs: number;
  failed: number;
  /** Bytes of DICOM read (uncompressed for ZIP entries). */
  bytes: number;
  currentPath?: string;
  /** While inside a ZIP archive or a DICOMDIR medium: how far through its entries or referenced files. */
  container?: { kind: 'zip' | 'dicomdir'; path: string; done: number; total: number };
}

export interface ImportReport extends ImportProgress {
  /** Each failed file, ZIP entry or missing referenced file, with the reason. */
  failures: Array<{ path: string; message: string }>;
}

/**
 * A Part-10 file in memory: one Buffer, or the pieces it arrived in, in order
 * (a STOW-RS part), which the store writes as they are (one writev) and joins
 * only when its attributes are not all in the first pieces.
 */
export type FileBytes = Buffer | readonly Buffer[];

/** A batch being filled (Store.beginBatch); outcomes come from commit(), one per instance added, in order. */
export interface StoreBatch {
  /** Instances added so far. */
  readonly size: number;
  /** Bytes added whose temp file is not written yet. */
  readonly unwrittenBytes: number;
  add(bytes: FileBytes): void;
  /** Resolves once at most `bytes` remain unwritten. */
  drained(bytes: number): Promise<void>;
  commit(): Promise<StoreOutcome[]>;
}

export interface Store {
  readonly storageDirectory: string;

  /**
   * Atomic ingest of Part-10 files (temp file, fsync, rename, one index transaction).
   * One outcome per input, in order; a bad input never stops the others.
   * `studyInstanceUID`: every instance must belong to that study (STOW-RS /studies/{s}).
   */
  storeInstances(files: readonly FileBytes[], options?: { studyInstanceUID?: string }): Promise<StoreOutcome[]>;

  /**
   * The same ingest filled one instance at a time: each added instance is
   * parsed and its temp file written and fsynced at once, commit() makes the
   * batch durable and indexed (STOW-RS stores while its body still arrives).
   */
  beginBatch(options?: { studyInstanceUID?: string }): StoreBatch;

  /**
   * Files and folders (recursive), ZIP archives and DICOMDIR media (main/store/importPaths.ts);
   * non-DICOM files are skipped and counted, failures reported with their reason.
   */
  importPaths(
    paths: string[],
    options?: { onProgress?: (p: ImportProgress) => void; signal?: AbortSignal },
  ): Promise<ImportReport>;

  /** Instances matching the UIDs, ordered by series then InstanceNumber; [] when none. */
  findInstances(selector: UidSelector): StoredInstance[];

  /** The stored files of the matching instances (same order as findInstances), without pixel layout or bulk map. */
  instanceFiles(selector: UidSelector): StoredFileRef[];

  /**
   * The stored DICOM JSON of each matching instance (same order as findInstances),
   * with only the UIDs that make its URL: read in pages, no StoredInstance built.
   */
  instanceMetadata(selector: UidSelector): Iterable<InstanceMetadata>;

  /** QIDO-RS search over the index (no file read); match order documented in searchIndex.ts. */
  search(query: SearchQuery): Iterable<SearchMatch>;

  // --- Orthanc REST subset (main/orthanc/) ---

  /** Orthanc IDs at a level, oldest first. */
  listResources(level: Level, options?: { limit?: number; since?: number }): string[];

  /** One resource in Orthanc's shape, or undefined when the ID is unknown. */
  getResource(level: Level, id: string): OrthancResource | undefined;

  /** Deletes a resource and its children (files and index); parents left empty are removed too. */
  deleteResource(level: Level, id: string): { deleted: boolean; remainingAncestor: { Type: string; ID: string; Path: string } | null };

  /** The stored instance with that Orthanc ID, or undefined. */
  getInstance(id: string): StoredInstance | undefined;

  statistics(): { CountPatients: number; CountStudies: number; CountSeries: number; CountInstances: number; TotalDiskSize: number };

  close(): void;
}

/** A resource as Orthanc's REST API shows it (GET /{level}/{id}). */
export interface OrthancResource {
  ID: string;
  Type: 'Patient' | 'Study' | 'Series' | 'Instance';
  /** Tag keyword -> string value, the level's main DICOM tags as Orthanc lists them. */
  MainDicomTags: Record<string, string>;
  /** Studies only. */
  PatientMainDicomTags?: Record<string, string>;
  ParentPatient?: string;
  ParentStudy?: string;
  ParentSeries?: string;
  Studies?: string[];
  Series?: string[];
  Instances?: string[];
  IsStable: boolean;
  LastUpdate: string;
  /** Instances only. */
  FileSize?: number;
  FileUuid?: string;
  IndexInSeries?: number | null;
}
