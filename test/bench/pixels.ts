/**
 * Pixel benchmark (issue 4 §5): our headless server (dist/main/server.js, a
 * separate process) against a real Orthanc 1.10 + DICOMweb plugin + GDCM
 * plugin, on the same files (test/bench/pixelSeries.ts: a synthetic 512x512
 * 16-bit CT series in Explicit VR Little Endian, RLE, JPEG-LS lossless and
 * JPEG 2000 lossless, compressed by dcmtk and GDCM). Measures, with a few
 * concurrent clients, over every instance of a series:
 *
 *  - frames decoded per second: WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4)
 *    GET …/instances/{i}/frames/1 with
 *    Accept: multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1
 *    Every answer is checked: one part, 512*512*2 bytes, Content-Type naming
 *    1.2.840.10008.1.2.1, and the pixels equal to the original slice (all
 *    syntaxes here are lossless), so both servers are known to decode;
 *  - rendered images per second: RetrieveRendered (PS3.18 10.4.1.1.3)
 *    GET …/instances/{i}/rendered with Accept image/png and image/jpeg; each
 *    answer checked (signature, 512x512 from the PNG IHDR / JPEG SOF); and
 *    image/jpeg with viewport=128,128 (a thumbnail's size; checked 128x128).
 *
 * Orthanc's set-up, and why (found while writing this benchmark, Debian 12,
 * Orthanc 1.10.1, GDCM plugin 1.5 with GDCM 3.0.21): when the GDCM plugin
 * transcodes (what the DICOMweb plugin asks for frames in 1.2.840.10008.1.2.1),
 * gdcm::ImageWriter::Write reserves a 132 KB stack frame, more than civetweb's
 * HTTP worker threads have: Orthanc dies with a segfault on most such
 * requests. So GDCM is restricted to JPEG 2000 (`Gdcm.RestrictTransferSyntaxes`;
 * the plugin's own default since its 2024 releases): RLE and JPEG-LS are decoded and transcoded by
 * Orthanc's built-in DCMTK, JPEG 2000 is decoded by GDCM, and Orthanc's
 * JPEG 2000 frames are measured on its own REST route
 * /instances/{id}/frames/0/image-uint16 (Accept image/x-portable-arbitrarymap,
 * raw samples after a short header; decoded by GDCM's decoder callback, which
 * does not crash), not on the DICOMweb route. The output says so.
 * Orthanc's /rendered stretches the pixels' min-max instead of applying the
 * file's window; the report compares both sides' PNG with the PS3.3 rendering.
 *
 *   npm run bench:pixels      (builds, then node dist/test/bench/pixels.js)
 *
 * --quick: 8 slices, one round (checks the benchmark itself).
 * --rounds=N: timed passes per case and server (default 5); figures are medians.
 * --instances=N: slices per series (default 48).
 * --clients=N: concurrent requests (default 4).
 * --signed: 16-bit signed pixels (HU, intercept 0) instead of 12-bit unsigned (intercept -1024).
 * --only=ours | --only=orthanc: one side only (its figures as JSON).
 * --cpu-prof: our server runs under `node --cpu-prof` (.tmp/bench-profiles/).
 * --cases=ID,ID: only these cases, in the default order (ids: frames-SYNTAX,
 *   rendered-png-SYNTAX, rendered-jpeg-SYNTAX, viewport-jpeg-SYNTAX; SYNTAX
 *   native, rle, jpegls, j2k). Default: all sixteen.
 * --save-rendered=DIR: writes each side's rendered PNG of slice 1, and the expected one, there.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import sharp from 'sharp';
import { haveOrthanc, ORTHANC_DICOMWEB_PLUGIN, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { MultipartWriter, readMultipart } from '../../main/dicomweb/multipart.js';
import { orthancId } from '../../main/store/orthancIds.js';
import { agent, expectOk, machineLine, median, now, peakRssMB, send, startOurs, type Answer } from './common.js';
import { writePixelSeries, type PixelSeries, type SyntaxSeries } from './pixelSeries.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes('--quick');
const signed = process.argv.includes('--signed');
const only = arg('only');
if (only !== undefined && only !== 'ours' && only !== 'orthanc') throw new Error(`--only must be 'ours' or 'orthanc', got '${only}'`);
const ROUNDS = Number(arg('rounds') ?? (quick ? 1 : 5));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error(`--rounds must be an integer from 1 to 20, got ${ROUNDS}`);
const INSTANCES = Number(arg('instances') ?? (quick ? 8 : 48));
if (!Number.isInteger(INSTANCES) || INSTANCES < 1 || INSTANCES > 500) throw new Error(`--instances must be an integer from 1 to 500, got ${INSTANCES}`);
const CLIENTS = Number(arg('clients') ?? 4);
if (!Number.isInteger(CLIENTS) || CLIENTS < 1 || CLIENTS > 64) throw new Error(`--clients must be an integer from 1 to 64, got ${CLIENTS}`);
const CPU_PROFILE_DIR = process.argv.includes('--cpu-prof') ? join(process.cwd(), '.tmp', 'bench-profiles') : undefined;
const WATCHDOG_MS = 20 * 60_000;
const STOW_BATCH = 12;
const SAVE_DIR = arg('save-rendered');
const CASES = arg('cases')
  ?.split(',')
  .map((id) => id.trim())
  .filter((id) => id !== '');

const ORTHANC_GDCM_PLUGIN = '/usr/share/orthanc/plugins/libOrthancGdcm.so';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const JPEG_2000_SYNTAXES = ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'];
const FRAMES_ACCEPT = `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_VR_LE}`;

const log = (msg: string) => process.stderr.write(`[bench:pixels] ${msg}\n`);

// ---------------------------------------------------------------------------
// The servers

interface Side {
  name: 'ours' | 'Orthanc';
  /** http://127.0.0.1:port, no trailing slash. */
  url: string;
  /** DICOMweb root with trailing slash. */
  root: string;
  pid: number;
  close(): Promise<void>;
}

async function startOrthancWithGdcm(): Promise<{ side: Side; orthanc: RunningOrthanc }> {
  const orthanc = await startOrthanc({
    config: {
      Plugins: [ORTHANC_DICOMWEB_PLUGIN, ORTHANC_GDCM_PLUGIN],
      // GDCM for JPEG 2000 only: its transcoder overflows the HTTP threads' stack (see the header).
      Gdcm: { Enable: true, RestrictTransferSyntaxes: JPEG_2000_SYNTAXES },
    },
  });
  return { orthanc, side: { name: 'Orthanc', url: orthanc.url, root: `${orthanc.dicomWebUrl}/`, pid: orthanc.pid, close: () => orthanc.close() } };
}

/** STOW-RS of every file of every series, in batches; each batch must be stored whole. */
async function load(side: Side, data: PixelSeries): Promise<void> {
  const files = data.series.flatMap((s) => s.instances.map((i) => i.file));
  for (let k = 0; k < files.length; k += STOW_BATCH) {
    const batch = files.slice(k, k + STOW_BATCH).map((f) => readFileSync(f));
    const writer = new MultipartWriter('application/dicom');
    const body = Buffer.concat([...batch.flatMap((f) => [writer.partHead({ 'Content-Type': 'application/dicom' }), f]), writer.end()]);
    const a = await expectOk(`${side.name} STOW`, send('POST', `${side.root}studies`, { 'content-type': writer.contentType, accept: 'application/dicom+json' }, body));
    const answer = JSON.parse(a.body.toString('utf8')) as Record<string, { Value?: unknown[] }>;
    const failed = answer['00081198']?.Value?.length ?? 0; // FailedSOPSequence
    const stored = answer['00081199']?.Value?.length ?? 0; // ReferencedSOPSequence
    if (failed || stored !== batch.length) throw new Error(`${side.name} STOW: ${stored} stored, ${failed} failed of ${batch.length}`);
  }
}

// ---------------------------------------------------------------------------
// Cases: one request per instance, and how to check its answer

/** The server answered, but not with a success: the case is "not available" on that side. */
class Unavailable extends Error {}

interface Case {
  id: string;
  title: string;
  kind: 'frames' | 'rendered';
  series: SyntaxSeries;
  /** Per side, what is requested when it is not the DICOMweb route (a footnote). */
  note?: { side: Side['name']; text: string };
  request(side: Side, k: number): Promise<Answer>;
  /** Throws Unavailable when the server did not answer 200, an Error when the answer is wrong. */
  check(side: Side, k: number, a: Answer): Promise<void> | void;
}

function instanceUrl(side: Side, data: PixelSeries, s: SyntaxSeries, k: number): string {
  return `${side.root}studies/${data.studyInstanceUID}/series/${s.seriesInstanceUID}/instances/${s.instances[k].sopInstanceUID}`;
}

/** "406 Not Acceptable: <message>" from an error answer (ours and Orthanc's are JSON with a Message). */
function describeFailure(a: Answer): string {
  const text = a.body.toString('utf8');
  let message = text.slice(0, 200);
  try {
    const json = JSON.parse(text) as { Message?: string; Details?: string; message?: string };
    message = json.Message ?? json.Details ?? json.message ?? message; // ours and Orthanc's; Fastify's own 500s
  } catch {
    // not JSON
  }
  return `${a.status}${message ? `: ${message}` : ''}`;
}

function ensureOk(a: Answer): void {
  if (a.status !== 200) throw new Unavailable(describeFailure(a));
}

async function onlyPart(a: Answer): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const type = String(a.headers['content-type'] ?? '');
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!/^multipart\/related/i.test(type) || !boundary) throw new Error(`answer is ${type || 'without Content-Type'}, not multipart/related with a boundary`);
  const parts = [];
  for await (const part of readMultipart(Readable.from([a.body]), boundary)) parts.push(part);
  if (parts.length !== 1) throw new Error(`${parts.length} parts, expected 1`);
  return parts[0]!;
}

function samePixels(what: string, got: Buffer, expected: Buffer): void {
  if (got.length !== expected.length) throw new Error(`${what}: ${got.length} bytes, expected ${expected.length}`);
  if (got.equals(expected)) return;
  const a = new Uint16Array(got.buffer, got.byteOffset, got.length / 2);
  const b = new Uint16Array(expected.buffer, expected.byteOffset, expected.length / 2);
  let differ = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      differ++;
      if (first < 0) first = i;
    }
  }
  throw new Error(`${what}: ${differ} of ${a.length} pixels differ from the original (first at (${first % 512}, ${Math.floor(first / 512)}): ${a[first]} instead of ${b[first]})`);
}

/** Width and height of a PNG (IHDR) or baseline/progressive JPEG (SOFn), or an error naming what is wrong. */
function imageSize(format: 'png' | 'jpeg', bytes: Buffer): { width: number; height: number } {
  if (format === 'png') {
    if (bytes.length < 24 || bytes.readUInt32BE(0) !== 0x89504e47 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG (no signature or IHDR)');
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`JPEG: no marker at byte ${at}`);
    const marker = bytes[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    }
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  throw new Error('JPEG: no SOF marker');
}

/** Samples of a PAM answer (Orthanc's image-uint16/int16), big endian, as little endian bytes. */
function pamSamples(a: Answer): Buffer {
  const end = a.body.indexOf('ENDHDR\n');
  if (end < 0 || !a.body.subarray(0, 2).equals(Buffer.from('P7'))) throw new Error('not a PAM image (no P7 … ENDHDR header)');
  return Buffer.from(a.body.subarray(end + 7)).swap16();
}

function framesCase(data: PixelSeries, s: SyntaxSeries): Case {
  const orthancRest = JPEG_2000_SYNTAXES.includes(s.transferSyntaxUID);
  const pamRoute = data.signed ? 'image-int16' : 'image-uint16';
  return {
    id: `frames-${s.name}`,
    title: `Frames decoded, ${s.label}`,
    kind: 'frames',
    series: s,
    note: orthancRest
      ? { side: 'Orthanc', text: `Orthanc: REST /instances/{id}/frames/0/${pamRoute} as image/x-portable-arbitrarymap (decoded by GDCM), not DICOMweb frames: transcoding with GDCM crashes Orthanc 1.10.1 here (see test/bench/pixels.ts). A decode without the re-encoding and multipart its DICOMweb route would add.` }
      : undefined,
    request: (side, k) => {
      if (side.name === 'Orthanc' && orthancRest) {
        const id = orthancId(data.patientID, data.studyInstanceUID, s.seriesInstanceUID, s.instances[k].sopInstanceUID);
        return send('GET', `${side.url}/instances/${id}/frames/0/${pamRoute}`, { accept: 'image/x-portable-arbitrarymap' });
      }
      return send('GET', `${instanceUrl(side, data, s, k)}/frames/1`, { accept: FRAMES_ACCEPT });
    },
    check: async (side, k, a) => {
      ensureOk(a);
      const what = `${side.name} frame of slice ${k + 1} (${s.label})`;
      if (side.name === 'Orthanc' && orthancRest) {
        samePixels(what, pamSamples(a), data.raw(k));
        return;
      }
      const part = await onlyPart(a);
      const type = part.headers['content-type'] ?? '';
      if (!type.includes(`transfer-syntax=${EXPLICIT_VR_LE}`)) throw new Error(`${what}: part Content-Type '${type}' does not name ${EXPLICIT_VR_LE}`);
      samePixels(what, part.body, data.raw(k));
    },
  };
}

/** First PNG answer of each side per case, compared after the run. */
const firstPng = new Map<string, Buffer>();

/** The viewport of the `viewport-jpeg-SYNTAX` cases: a thumbnail's size (both servers' /rendered take it; Orthanc 1.10 has no /thumbnail). */
const SMALL_VIEWPORT = 128;

function renderedCase(data: PixelSeries, s: SyntaxSeries, format: 'png' | 'jpeg', viewport?: number): Case {
  const mediaType = `image/${format}`;
  const expected = viewport ?? data.columns;
  return {
    id: viewport ? `viewport-${format}-${s.name}` : `rendered-${format}-${s.name}`,
    title: viewport ? `Rendered ${format.toUpperCase()} ${viewport}x${viewport}, ${s.label}` : `Rendered ${format.toUpperCase()}, ${s.label}`,
    kind: 'rendered',
    series: s,
    request: (side, k) => send('GET', `${instanceUrl(side, data, s, k)}/rendered${viewport ? `?viewport=${viewport},${viewport}` : ''}`, { accept: mediaType }),
    check: (side, k, a) => {
      ensureOk(a);
      const what = `${side.name} rendered ${format} of slice ${k + 1} (${s.label})`;
      const type = String(a.headers['content-type'] ?? '');
      if (!type.startsWith(mediaType)) throw new Error(`${what}: Content-Type '${type}', expected ${mediaType}`);
      const size = imageSize(format, a.body);
      if (size.width !== expected || size.height !== expected) throw new Error(`${what}: ${size.width}x${size.height}, expected ${expected}x${expected}`);
      if (format === 'png' && k === 0 && !viewport) firstPng.set(`${side.name} ${s.name}`, a.body);
    },
  };
}

// ---------------------------------------------------------------------------
// Measuring

/** One pass over all instances, CLIENTS requests in flight; every answer checked. Returns answers per second. */
async function pass(side: Side, c: Case, count: number): Promise<number> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < count) {
      const k = next++;
      try {
        await c.check(side, k, await c.request(side, k));
      } catch (err) {
        failure ??= err;
      }
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: Math.min(CLIENTS, count) }, worker));
  const elapsed = now() - t0;
  if (failure !== undefined) throw failure;
  return count / (elapsed / 1000);
}

interface Outcome {
  /** Answers per second, one per timed pass. */
  rates: number[];
  /** The server did not answer 200 (e.g. "406: …"). */
  unavailable?: string;
  /** It answered, wrongly. */
  wrong?: string;
  /** Our process: VmHWM over this case's passes (reset before them). */
  peakRssMB?: number;
}

/** Resets a process's VmHWM (Linux /proc/<pid>/clear_refs "5"); false where that is not allowed. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

let perCaseRss = true;

/** The untimed pass: checks every answer once and warms both sides. */
async function validate(side: Side, c: Case, count: number): Promise<Outcome> {
  if (side.name === 'ours') perCaseRss = resetPeakRss(side.pid) && perCaseRss;
  try {
    await pass(side, c, count);
    return { rates: [] };
  } catch (err) {
    if (err instanceof Unavailable) return { rates: [], unavailable: err.message };
    return { rates: [], wrong: err instanceof Error ? err.message : String(err) };
  }
}

async function measureCase(sides: Side[], c: Case, count: number): Promise<Map<Side['name'], Outcome>> {
  const outcomes = new Map<Side['name'], Outcome>();
  for (const side of sides) {
    log(`${c.title}: ${side.name}, checking every answer`);
    outcomes.set(side.name, await validate(side, c, count));
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const o = outcomes.get(side.name)!;
      if (o.unavailable || o.wrong) continue;
      try {
        o.rates.push(await pass(side, c, count));
      } catch (err) {
        o.wrong = err instanceof Error ? err.message : String(err);
      }
    }
  }
  const ours = sides.find((s) => s.name === 'ours');
  if (ours) outcomes.get('ours')!.peakRssMB = peakRssMB(ours.pid);
  for (const [name, o] of outcomes) {
    const figure = o.unavailable ? `not available (${o.unavailable})` : o.wrong ? `WRONG: ${o.wrong}` : `${median(o.rates).toFixed(1)}/s`;
    log(`${c.title}: ${name} ${figure}`);
  }
  return outcomes;
}

/**
 * The 8-bit image a viewer should show for slice `raw`: modality LUT (stored
 * value * slope + intercept), then the linear VOI function of PS3.3
 * C.11.2.1.2.1 with the file's window (40/400), MONOCHROME2.
 */
function expectedRendering(raw: Buffer, data: PixelSeries): Buffer {
  const [center, width] = [40, 400];
  const intercept = data.signed ? 0 : -1024;
  const samples = data.signed ? new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2) : new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]! + intercept;
    if (x <= center - 0.5 - (width - 1) / 2) out[i] = 0;
    else if (x > center - 0.5 + (width - 1) / 2) out[i] = 255;
    else out[i] = Math.round(((x - (center - 0.5)) / (width - 1) + 0.5) * 255);
  }
  return out;
}

/** Mean and largest absolute difference between a greyscale PNG and the expected 8-bit pixels. */
async function compareRendered(png: Buffer, expected: Buffer): Promise<string> {
  const { data: got, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (got.length !== expected.length) return `${info.width}x${info.height}, not comparable`;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - expected[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return `mean ${(sum / got.length).toFixed(2)}, max ${max}`;
}

// ---------------------------------------------------------------------------
// Report

function figure(o: Outcome | undefined): string {
  if (!o) return 'not run';
  if (o.unavailable) return `n/a (${o.unavailable.length > 90 ? `${o.unavailable.slice(0, 90)}…` : o.unavailable})`;
  if (o.wrong) return `**WRONG** (${o.wrong})`;
  const spread = o.rates.length > 1 ? ` (${Math.min(...o.rates).toFixed(0)}–${Math.max(...o.rates).toFixed(0)})` : '';
  return `${median(o.rates).toFixed(1)}/s${spread}`;
}

function table(cases: Case[], results: Map<string, Map<Side['name'], Outcome>>): { text: string; notes: string[] } {
  const notes: string[] = [];
  const lines = [
    `| Case (${INSTANCES} slices, ${CLIENTS} clients) | Ours | Orthanc | Time ours / Orthanc | Target | Met | Our peak RSS |`,
    '|---|---:|---:|---:|---|:---:|---:|',
  ];
  for (const c of cases) {
    const r = results.get(c.id)!;
    const ours = r.get('ours');
    const theirs = r.get('Orthanc');
    let theirsText = figure(theirs);
    if (c.note && theirs) {
      notes.push(c.note.text);
      theirsText += ` [${notes.length}]`;
    }
    const ok = (o: Outcome | undefined) => o && !o.unavailable && !o.wrong && o.rates.length > 0;
    const ratio = ok(ours) && ok(theirs) ? median(theirs!.rates) / median(ours!.rates) : undefined;
    const rss = ours?.peakRssMB !== undefined && ok(ours) ? `${ours.peakRssMB.toFixed(0)} MB` : '—';
    lines.push(
      `| ${c.title} | ${figure(ours)} | ${theirsText} | ${ratio === undefined ? '—' : ratio.toFixed(2)} | ≤ 1.0 | ${ratio === undefined ? '—' : ratio <= 1 ? 'yes' : '**no**'} | ${rss} |`,
    );
  }
  return { text: lines.join('\n'), notes };
}

async function main(): Promise<void> {
  if (only !== 'ours' && !haveOrthanc()) throw new Error("Orthanc is missing: install the Debian packages 'orthanc orthanc-dicomweb orthanc-gdcm'");
  const watchdog = setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60_000} minutes`);
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();
  agent.maxSockets = CLIENTS;

  const dir = mkdtempSync(join(tmpdir(), 'bench-pixels-'));
  const sides: Side[] = [];
  try {
    log(`writing ${INSTANCES} slices x 4 transfer syntaxes into ${dir} (pydicom, dcmcrle, dcmcjpls, gdcmconv), each read back and checked`);
    const t0 = now();
    const data = await writePixelSeries(mkdirIn(dir, 'data'), INSTANCES, signed);
    log(`data written in ${((now() - t0) / 1000).toFixed(1)} s`);

    let versions = 'Orthanc not run';
    if (only !== 'orthanc') {
      const ours = await startOurs(mkdirIn(dir, 'ours'), { cpuProfileDir: CPU_PROFILE_DIR });
      sides.push({ name: 'ours', url: ours.url, root: ours.root, pid: ours.pid, close: ours.close });
    }
    if (only !== 'ours') {
      const { side, orthanc } = await startOrthancWithGdcm();
      sides.push(side);
      const version = async (path: string) => (JSON.parse((await send('GET', `${orthanc.url}${path}`)).body.toString('utf8')) as { Version: string }).Version;
      versions = `Orthanc ${await version('/system')} with DICOMweb plugin ${await version('/plugins/dicom-web')} and GDCM plugin ${await version('/plugins/gdcm')} (GDCM restricted to JPEG 2000)`;
    }
    for (const side of sides) {
      log(`${side.name}: STOW-RS of ${INSTANCES * data.series.length} instances`);
      await load(side, data);
    }

    const cases: Case[] = [
      ...data.series.map((s) => framesCase(data, s)),
      ...data.series.map((s) => renderedCase(data, s, 'png')),
      ...data.series.map((s) => renderedCase(data, s, 'jpeg')),
      ...data.series.map((s) => renderedCase(data, s, 'jpeg', SMALL_VIEWPORT)),
    ].filter((c) => CASES === undefined || CASES.includes(c.id));
    const unknown = CASES?.filter((id) => !cases.some((c) => c.id === id)) ?? [];
    if (unknown.length || cases.length === 0) {
      throw new Error(`--cases: unknown case(s) ${unknown.join(', ') || '(none given)'}; known: ${data.series.flatMap((s) => [`frames-${s.name}`, `rendered-png-${s.name}`, `rendered-jpeg-${s.name}`, `viewport-jpeg-${s.name}`]).join(', ')}`);
    }
    const results = new Map<string, Map<Side['name'], Outcome>>();
    for (const c of cases) results.set(c.id, await measureCase(sides, c, INSTANCES));
    const finalRss = new Map(sides.map((s) => [s.name, peakRssMB(s.pid)]));

    if (sides.length < 2) {
      console.log(JSON.stringify(Object.fromEntries([...results].map(([id, r]) => [id, Object.fromEntries(r)])), null, 2));
      return;
    }

    const { text, notes } = table(cases, results);
    const avg = (s: SyntaxSeries) => s.instances.reduce((n, i) => n + i.bytes, 0) / s.instances.length / 1024;
    console.log(`# Pixel benchmark${quick ? ' (--quick: reduced data, not for comparison)' : ''}\n`);
    console.log(`Date: ${new Date().toISOString()}`);
    console.log(`Machine: ${machineLine()}`);
    console.log(`Node ${process.version}; ${versions}`);
    console.log(
      `Data: ${INSTANCES} synthetic CT slices, 512x512, ${data.signed ? '16-bit signed (bits stored 16)' : '16 bits allocated, 12 stored, unsigned'}, MONOCHROME2, window 40/400; per syntax (mean file size): ` +
        data.series.map((s) => `${s.label} ${avg(s).toFixed(0)} KB`).join(', '),
    );
    console.log(`Each figure: answers per second over all ${INSTANCES} slices with ${CLIENTS} requests in flight, median of ${ROUNDS} timed pass(es) after one checking pass (lowest–highest pass in brackets); every answer checked (decoded frames equal to the original pixels)`);
    console.log(`Frames: GET …/frames/1, Accept: ${FRAMES_ACCEPT}. Rendered: GET …/instances/{i}/rendered, Accept image/png or image/jpeg, no parameters (the file's window), or viewport=${SMALL_VIEWPORT},${SMALL_VIEWPORT}\n`);
    console.log(text);
    notes.forEach((n, i) => console.log(`\n[${i + 1}] ${n}`));
    console.log(`\nOur peak RSS: per case, the VmHWM over that case's passes${perCaseRss ? ' (reset before each case)' : ' (could not be reset: the highest since start)'}; highest since start: ours ${finalRss.get('ours')!.toFixed(0)} MB, Orthanc ${finalRss.get('Orthanc')!.toFixed(0)} MB.`);

    const expected = expectedRendering(data.raw(0), data);
    const agreement: string[] = [];
    for (const s of data.series) {
      const each: string[] = [];
      for (const side of sides) {
        const png = firstPng.get(`${side.name} ${s.name}`);
        if (png) each.push(`${side.name} ${await compareRendered(png, expected)}`);
      }
      if (each.length) agreement.push(`${s.label}: ${each.join(', ')}`);
    }
    if (agreement.length) {
      console.log('\nRendered PNG of slice 1 against the expected image (PS3.3 C.11.2.1.2.1 linear window 40/400 after the rescale, computed by the benchmark), absolute difference in 8-bit grey levels:');
      for (const line of agreement) console.log(`- ${line}`);
    }
    if (SAVE_DIR) {
      mkdirSync(SAVE_DIR, { recursive: true });
      for (const [key, png] of firstPng) writeFileSync(join(SAVE_DIR, `${key.replace(' ', '-')}.png`), png);
      await sharp(expected, { raw: { width: data.columns, height: data.rows, channels: 1 } }).toColourspace('b-w').png().toFile(join(SAVE_DIR, 'expected.png'));
      log(`rendered PNGs of slice 1 written to ${SAVE_DIR}`);
    }

    const wrong = [...results.values()].some((r) => [...r.values()].some((o) => o.wrong));
    if (wrong) {
      log('some answers were WRONG (see the table)');
      process.exitCode = 2;
    }
  } finally {
    for (const side of sides) await side.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    clearTimeout(watchdog);
  }
}

function mkdirIn(parent: string, name: string): string {
  return mkdtempSync(join(parent, `${name}-`));
}

main().catch((err) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
