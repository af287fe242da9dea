/**
 * Shapes produced by the DICOM parser (main/dicom/parseInstance.ts) and kept by
 * the store. The dataset is in the DICOM JSON Model (PS3.18 Annex F.2): keys
 * are 8 upper-case hex digits, values `{ vr, Value | BulkDataURI | InlineBinary }`.
 */

export interface DicomJsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export type DicomJsonValue = string | number | DicomJsonPersonName | DicomJsonDataset | null;

export interface DicomJsonElement {
  vr: string;
  Value?: DicomJsonValue[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

export type DicomJsonDataset = Record<string, DicomJsonElement>;

/**
 * Bulk data URIs are stored relative to the instance, starting with this token;
 * whoever serves the JSON replaces it with the instance's absolute WADO-RS URL
 * (`{base}/studies/{s}/series/{se}/instances/{i}`), e.g.
 * `@INSTANCE@/bulk/7FE00010` or `@INSTANCE@/bulk/00540016/0/00181072`… for
 * nested elements (sequence tag / item index / tag, like Orthanc).
 */
export const INSTANCE_URL_TOKEN = '@INSTANCE@';

/** Where a byte range lives in the stored file. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Pixel data description, enough to cut frames without re-parsing. */
export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  numberOfFrames: number;
  /** Pixel Data is encapsulated (compressed transfer syntaxes). */
  encapsulated: boolean;
  /** Native data: the whole value of (7FE0,0010) in the file. */
  value?: ByteRange;
  /** Native data: bytes per frame (rows*columns*samples*bitsAllocated/8, rounded up for 1-bit). */
  frameLength?: number;
  /** Encapsulated data: for each frame, the fragments (file offsets of fragment data) that make it. */
  frames?: ByteRange[][];
}

export interface ParsedInstance {
  transferSyntaxUID: string;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  /** PatientID (0010,0020), '' when absent. */
  patientID: string;
  /** The dataset (without File Meta) as DICOM JSON, bulk elements as BulkDataURI with INSTANCE_URL_TOKEN. */
  dataset: DicomJsonDataset;
  /**
   * Byte ranges in the stored file of every element given a BulkDataURI, keyed by
   * the URI's path after `@INSTANCE@/bulk/` (e.g. `7FE00010`, `00540016/0/00181072`).
   * Empty when the dataset is deflated (offsets would refer to inflated bytes).
   */
  bulk: Record<string, ByteRange>;
  /**
   * The text as written of the top-level DS, IS and PN elements that have a
   * value, keyed by 8-hex tag like `dataset` (Orthanc shows these as written,
   * DICOM JSON does not keep it): DS and IS as ASCII with the spaces around
   * each value removed (`1.000000\-2.5` where JSON has [1, -2.5]); PN as
   * decoded in the Specific Character Set, trailing padding removed, with its
   * '=' groups as written (`Wang^XiaoDong=王^小東=` where JSON drops the
   * empty trailing group). Absent from a ParsedInstance made elsewhere than
   * by parseInstance.
   */
  writtenText?: Record<string, string>;
  /** Present when the dataset has Pixel Data. Offsets are file offsets (absent for deflated data). */
  pixel?: PixelLayout;
  /** The dataset is stored deflated (1.2.840.10008.1.2.1.99): offsets cannot be used, re-parse to read bulk. */
  deflated: boolean;
  /** Big endian dataset (1.2.840.10008.1.2.2). */
  bigEndian: boolean;
}
