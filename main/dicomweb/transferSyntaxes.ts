/**
 * Transfer syntaxes as WADO-RS names them in media types (PS3.18 8.7.3.3.2
 * "Compressed Bulk Data Media Types", Table 8.7.3-3/-5 and PS3.5 Annex A):
 * the image/* media type of each compressed pixel data syntax, and the syntax
 * uncompressed frames are delivered in.
 */

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

/**
 * Image media types of compressed syntaxes, the standard name first, then the
 * older names some clients still send (PS3.18 2014 `image/x-…`/`image/dicom+…`).
 */
const IMAGE_MEDIA_TYPES: Record<string, string[]> = {
  '1.2.840.10008.1.2.4.50': ['image/jpeg', 'image/dicom+jpeg'], // JPEG Baseline (Process 1)
  '1.2.840.10008.1.2.4.51': ['image/jpeg', 'image/dicom+jpeg'], // JPEG Extended (Process 2 & 4)
  '1.2.840.10008.1.2.4.57': ['image/jpeg', 'image/dicom+jpeg'], // JPEG Lossless (Process 14)
  '1.2.840.10008.1.2.4.70': ['image/jpeg', 'image/dicom+jpeg'], // JPEG Lossless SV1
  '1.2.840.10008.1.2.4.80': ['image/jls', 'image/x-jls', 'image/dicom+jpeg-ls'], // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81': ['image/jls', 'image/x-jls', 'image/dicom+jpeg-ls'], // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90': ['image/jp2', 'image/dicom+jp2'], // JPEG 2000 Lossless
  '1.2.840.10008.1.2.4.91': ['image/jp2', 'image/dicom+jp2'], // JPEG 2000
  '1.2.840.10008.1.2.4.92': ['image/jpx', 'image/dicom+jpx'], // JPEG 2000 Part 2 Lossless
  '1.2.840.10008.1.2.4.93': ['image/jpx', 'image/dicom+jpx'], // JPEG 2000 Part 2
  '1.2.840.10008.1.2.4.201': ['image/jphc'], // HTJ2K Lossless
  '1.2.840.10008.1.2.4.202': ['image/jphc'], // HTJ2K Lossless RPCL
  '1.2.840.10008.1.2.4.203': ['image/jphc'], // HTJ2K
  '1.2.840.10008.1.2.5': ['image/dicom-rle', 'image/x-dicom-rle', 'image/dicom+rle'], // RLE Lossless
};

/** The image/* media types (standard name first) of a compressed syntax, [] when it has none. */
export function imageMediaTypes(transferSyntaxUID: string): string[] {
  return IMAGE_MEDIA_TYPES[transferSyntaxUID] ?? [];
}
