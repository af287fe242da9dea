/**
 * The reference rendering of test/support/renderOracle.py (pydicom + numpy):
 * synthetic files pydicom's samples lack, and the 8-bit pixels a frame must
 * render to. `comparePixels` checks our decoded PNG against them.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';

const SCRIPT = join(import.meta.dirname, 'renderOracle.py');
const PYTHON = '/usr/bin/python3';

export interface Reference {
  rows: number;
  columns: number;
  channels: 1 | 3;
  pixels: Buffer;
}

/** Writes rgb_planar.dcm, ybr_full.dcm, palette8.dcm, palette16.dcm, signed12.dcm into `dir`; their paths. */
export function synthRenderFiles(dir: string): Record<string, string> {
  const names = JSON.parse(execFileSync(PYTHON, [SCRIPT, 'synth', dir], { encoding: 'utf8' })) as string[];
  return Object.fromEntries(names.map((n) => [n.replace(/\.dcm$/, ''), join(dir, n)]));
}

export function referenceRendering(path: string, frame = 1, window?: [number, number, string]): Reference {
  const args = [SCRIPT, 'expect', path, String(frame), ...(window ? window.map(String) : [])];
  const out = JSON.parse(execFileSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as Omit<Reference, 'pixels'> & { pixels: string };
  return { ...out, pixels: Buffer.from(out.pixels, 'base64') };
}

export interface Raw {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

/** An encoded image's raw pixels (sharp), alpha dropped; a grey image has one channel. */
export async function rawPixels(image: Buffer): Promise<Raw> {
  const grey = (await sharp(image).metadata()).channels === 1;
  // sharp's raw output is sRGB unless told otherwise: keep a grey image grey.
  const { data, info } = await sharp(image).removeAlpha().toColourspace(grey ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** The largest difference between our pixels and the reference, per sample (channels must agree). */
export function maxDifference(ours: Raw, reference: Reference): number {
  if (ours.width !== reference.columns || ours.height !== reference.rows || ours.channels !== reference.channels) {
    throw new Error(`ours ${ours.width}x${ours.height}x${ours.channels}, reference ${reference.columns}x${reference.rows}x${reference.channels}`);
  }
  let max = 0;
  for (let i = 0; i < ours.data.length; i++) max = Math.max(max, Math.abs(ours.data[i]! - reference.pixels[i]!));
  return max;
}

/** Sample `channel` of pixel (x, y). */
export function at(image: { data: Buffer; channels: number; width: number } | Reference, x: number, y: number, channel = 0): number {
  const width = 'width' in image ? image.width : image.columns;
  const data = 'data' in image ? image.data : image.pixels;
  return data[(y * width + x) * image.channels + channel]!;
}
