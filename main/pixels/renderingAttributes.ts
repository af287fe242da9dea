/**
 * The attributes rendering needs, read from the instance's stored DICOM JSON
 * (no re-parse of the file):
 *  - Rescale Slope/Intercept (0028,1053/1052), PS3.3 C.11.1;
 *  - the first Window Center/Width (0028,1050/1051) with VOI LUT Function
 *    (0028,1056), PS3.3 C.11.2;
 *  - for enhanced multi-frame objects, the same attributes in the Pixel Value
 *    Transformation (0028,9145) and Frame VOI LUT (0028,9132) functional
 *    groups, per-frame before shared (PS3.3 C.7.6.16);
 *  - the Modality LUT Sequence (0028,3000) and the first item of the VOI LUT
 *    Sequence (0028,3010), PS3.3 C.11.1 / C.11.2: LUT Descriptor (0028,3002)
 *    and LUT Data (0028,3006), the data inline (US) or bulk (OW), read by
 *    readDataLuts;
 *  - Palette Color LUT Descriptors (0028,1101-1103) and Data (0028,1201-1203),
 *    PS3.3 C.7.6.3.1.5-6: the data are bulk elements, read from the stored
 *    file at their byte ranges (readBulk), little endian.
 */
import type { DicomJsonDataset, DicomJsonElement } from '../dicom/types.js';
import { readBulk } from '../dicomweb/retrieveBulkdata.js';
import { swapBytes } from '../dicomweb/frames.js';
import { AppError } from '../errors.js';
import type { StoredInstance } from '../store/types.js';
import { createHash } from 'node:crypto';
import type { DataLut, PaletteLut, RenderingAttributes, VoiFunction, VoiWindow } from './render.js';

const RESCALE_INTERCEPT = '00281052';
const RESCALE_SLOPE = '00281053';
const WINDOW_CENTER = '00281050';
const WINDOW_WIDTH = '00281051';
const VOI_LUT_FUNCTION = '00281056';
const SHARED_FUNCTIONAL_GROUPS = '52009229'; // SharedFunctionalGroupsSequence
const PER_FRAME_FUNCTIONAL_GROUPS = '52009230'; // PerFrameFunctionalGroupsSequence
const PIXEL_VALUE_TRANSFORMATION = '00289145'; // PixelValueTransformationSequence
const FRAME_VOI_LUT = '00289132'; // FrameVOILUTSequence
const MODALITY_LUT_SEQUENCE = '00283000';
const VOI_LUT_SEQUENCE = '00283010';
const LUT_DESCRIPTOR = '00283002';
const LUT_DATA = '00283006';
const PALETTE_DESCRIPTORS = ['00281101', '00281102', '00281103']; // Red/Green/Blue Palette Color LUT Descriptor
const PALETTE_DATA = ['00281201', '00281202', '00281203']; // Red/Green/Blue Palette Color LUT Data

function firstNumber(element: DicomJsonElement | undefined): number | undefined {
  const value = element?.Value?.[0];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function firstItem(element: DicomJsonElement | undefined, index = 0): DicomJsonDataset | undefined {
  const item = element?.Value?.[index];
  return item && typeof item === 'object' && !('Alphabetic' in item) ? (item as DicomJsonDataset) : undefined;
}

/** VOI LUT Function (0028,1056) values (PS3.3 C.11.2.1.3), and the PS3.18 `window` spellings. */
export function voiFunctionOf(text: string | undefined): VoiFunction | undefined {
  switch (text?.trim().toUpperCase().replace('-', '_')) {
    case undefined:
    case '':
    case 'LINEAR':
      return 'linear';
    case 'LINEAR_EXACT':
      return 'linear-exact';
    case 'SIGMOID':
      return 'sigmoid';
    default:
      return undefined;
  }
}

/** The datasets that may hold an attribute for `frame`: per-frame item, shared item, then top level (PS3.3 C.7.6.16). */
function frameSources(dataset: DicomJsonDataset, frame: number, macro: string): DicomJsonDataset[] {
  const sources: DicomJsonDataset[] = [];
  const perFrame = firstItem(firstItem(dataset[PER_FRAME_FUNCTIONAL_GROUPS], frame - 1)?.[macro]);
  const shared = firstItem(firstItem(dataset[SHARED_FUNCTIONAL_GROUPS])?.[macro]);
  if (perFrame) sources.push(perFrame);
  if (shared) sources.push(shared);
  sources.push(dataset);
  return sources;
}

/** Rescale and window of `frame` (1-based); palette LUTs are read apart (readPalette). */
export function renderingAttributesOf(dataset: DicomJsonDataset, frame = 1): RenderingAttributes {
  let rescaleSlope = 1;
  let rescaleIntercept = 0;
  for (const source of frameSources(dataset, frame, PIXEL_VALUE_TRANSFORMATION)) {
    const slope = firstNumber(source[RESCALE_SLOPE]);
    const intercept = firstNumber(source[RESCALE_INTERCEPT]);
    if (slope !== undefined || intercept !== undefined) {
      rescaleSlope = slope ?? 1;
      rescaleIntercept = intercept ?? 0;
      break;
    }
  }
  let window: VoiWindow | undefined;
  for (const source of frameSources(dataset, frame, FRAME_VOI_LUT)) {
    const center = firstNumber(source[WINDOW_CENTER]);
    const width = firstNumber(source[WINDOW_WIDTH]);
    if (center === undefined || width === undefined) continue;
    const fn = voiFunctionOf(source[VOI_LUT_FUNCTION]?.Value?.[0] as string | undefined) ?? 'linear';
    // A width the function cannot take (LINEAR needs >= 1, the others > 0) is ignored: min/max is used instead.
    if (fn === 'linear' ? width >= 1 : width > 0) window = { center, width, function: fn };
    break;
  }
  return { rescaleSlope, rescaleIntercept, window };
}

/** Whether the dataset has a Modality or VOI LUT Sequence for `frame` (readDataLuts has work to do). */
export function hasDataLuts(dataset: DicomJsonDataset, frame = 1): boolean {
  return [PIXEL_VALUE_TRANSFORMATION, FRAME_VOI_LUT].some((macro) =>
    frameSources(dataset, frame, macro).some((source) => source[MODALITY_LUT_SEQUENCE] !== undefined || source[VOI_LUT_SEQUENCE] !== undefined),
  );
}

/** The Modality LUT (replacing the rescale) and first VOI LUT of `frame`, where the dataset has them. */
export async function readDataLuts(instance: StoredInstance, dataset: DicomJsonDataset, frame = 1): Promise<Pick<RenderingAttributes, 'modalityLut' | 'voiLut'>> {
  const out: Pick<RenderingAttributes, 'modalityLut' | 'voiLut'> = {};
  const find = async (macro: string, sequence: string, name: string) => {
    for (const source of frameSources(dataset, frame, macro)) {
      const item = firstItem(source[sequence]);
      if (item) return readDataLut(instance, item, name);
    }
    return undefined;
  };
  const modality = await find(PIXEL_VALUE_TRANSFORMATION, MODALITY_LUT_SEQUENCE, 'Modality LUT Sequence');
  if (modality) out.modalityLut = modality;
  const voi = await find(FRAME_VOI_LUT, VOI_LUT_SEQUENCE, 'VOI LUT Sequence');
  if (voi) out.voiLut = voi;
  return out;
}

async function readDataLut(instance: StoredInstance, item: DicomJsonDataset, name: string): Promise<DataLut> {
  const descriptor = item[LUT_DESCRIPTOR]?.Value as number[] | undefined;
  const dataElement = item[LUT_DATA];
  const bad = (what: string) => new AppError('bad-dicom', `instance ${instance.sopInstanceUID}: the ${name}'s ${what}`);
  if (!descriptor || descriptor.length < 3 || !descriptor.every((v) => typeof v === 'number')) throw bad('LUT Descriptor (0028,3002) is missing or has fewer than 3 values');
  const [entriesValue, firstMapped, bitsValue] = descriptor as [number, number, number];
  const count = entriesValue === 0 ? 65536 : entriesValue;
  const bits = Math.min(16, Math.max(1, bitsValue));
  const entries = new Uint16Array(count);
  if (Array.isArray(dataElement?.Value)) {
    const values = dataElement.Value as number[];
    if (values.length < count) throw bad(`LUT Data has ${values.length} values, fewer than the ${count} entries its descriptor gives`);
    for (let i = 0; i < count; i++) entries[i] = values[i]!;
  } else {
    const ref = inlineOrBulkPath(dataElement);
    if (!ref) throw bad('LUT Data (0028,3006) is missing');
    // The BulkDataURI names the nested value's whole path (SEQTAG/index/…/00283006).
    let data = ref.inline ?? (await readBulk(instance, ref.path!));
    if (instance.bigEndian && !ref.inline) data = swapBytes(Buffer.from(data), 2);
    // OW: one entry per 16-bit word; 8-bit tables are also found packed one entry per byte.
    const perEntry = data.length >= count * 2 ? 2 : data.length >= count ? 1 : 0;
    if (perEntry === 0) throw bad(`LUT Data has ${data.length} bytes, less than the ${count} entries its descriptor gives`);
    for (let i = 0; i < count; i++) entries[i] = perEntry === 2 ? data.readUInt16LE(i * 2) : data[i]!;
  }
  const key = createHash('sha1').update(`${firstMapped},${bits},`).update(new Uint8Array(entries.buffer)).digest('hex');
  return { firstMapped, bits, entries, key };
}

function inlineOrBulkPath(element: DicomJsonElement | undefined): { inline?: Buffer; path?: string } | undefined {
  if (!element) return undefined;
  if (element.InlineBinary !== undefined) return { inline: Buffer.from(element.InlineBinary, 'base64') };
  const match = element.BulkDataURI?.match(/\/bulk\/([0-9A-Fa-f/]+)$/);
  return match ? { path: match[1]!.toUpperCase() } : undefined;
}

/** The three Palette Color LUTs of a PALETTE COLOR instance. */
export async function readPalette(instance: StoredInstance, dataset: DicomJsonDataset): Promise<RenderingAttributes['palette']> {
  const luts: PaletteLut[] = [];
  for (let c = 0; c < 3; c++) {
    const name = ['Red', 'Green', 'Blue'][c]!;
    const descriptor = dataset[PALETTE_DESCRIPTORS[c]!]?.Value;
    const dataRef = inlineOrBulkPath(dataset[PALETTE_DATA[c]!]);
    if (!descriptor || descriptor.length < 3 || !dataRef) {
      throw new AppError(
        'bad-dicom',
        `instance ${instance.sopInstanceUID} is PALETTE COLOR but has no ${name} Palette Color Lookup Table ${descriptor ? 'Data' : 'Descriptor'} (segmented palettes are not supported)`,
      );
    }
    const [entriesValue, firstValue, bitsValue] = descriptor as number[];
    let data = dataRef.inline ?? (await readBulk(instance, dataRef.path!));
    if (instance.bigEndian && !dataRef.inline) data = swapBytes(Buffer.from(data), 2);
    // The first mapped value is US or SS by Pixel Representation: the parser already read it that way.
    const entries = entriesValue === 0 ? 65536 : entriesValue!;
    const bits = bitsValue === 16 ? 16 : 8;
    luts.push({ entries, firstMapped: firstValue!, bits, data });
  }
  return { red: luts[0]!, green: luts[1]!, blue: luts[2]! };
}
