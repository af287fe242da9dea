/**
 * Remote-client benchmark (issue 3 §6): our headless server (dist/main/server.js,
 * a separate process) as a DICOMweb client of real Orthanc 1.10 servers,
 * against Orthanc's own DICOMweb client doing the same, on this machine:
 *
 *  (a) retrieve: a 1,000-instance study from Orthanc A into our store through
 *      POST {Root}servers/A/retrieve, vs Orthanc B's own
 *      POST /dicom-web/servers/A/retrieve of the same study;
 *  (b) stow: the same 1,000 instances to an empty Orthanc through our
 *      POST {Root}servers/{name}/stow, vs Orthanc B's own /stow to another
 *      empty Orthanc (both synchronous, the study's Orthanc ID as resource);
 *  (c) the peak RSS (VmHWM) of our process while it retrieves a study of more
 *      than 1 GB (2,000 512x512 16-bit instances), and, restarted, while it
 *      sends that study on to an empty Orthanc.
 *
 *   npm run bench:client      (builds, then node dist/test/bench/client.js)
 *
 * --quick: a tenth of the data, one round (checks the benchmark itself).
 * --rounds=N: rounds of (a) and (b), fresh clients and targets each (default 3);
 *   figures are medians over rounds. Their storage is deleted when the benchmark
 *   ends, not between rounds (since 2026-12-06 evening: on this disk, ext4 without
 *   a journal, files created within 30 s of a deletion cost more kernel time).
 * --parts=retrieve,stow,big: which parts to run (default all three). Without
 *   "retrieve", the instances are stored into both clients directly.
 * --big-instances=N: size of the study of (c) (default 2000 of 512x512).
 * --cpu-prof: our process runs under `node --cpu-prof` (profiles in .tmp/bench-profiles/).
 * Every answer is checked (stored counts on each side), and a watchdog stops
 * the run after 30 minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveOrthanc, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { synthInstance, synthUid } from '../support/synth.js';
import { MultipartWriter } from '../../main/dicomweb/multipart.js';
import { agent, cpuSeconds, expectOk, getJson, machineLine, median, now, peakRssMB, postJson, send, startOurs, type OurServer } from './common.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const CPU_PROFILE_DIR = process.argv.includes('--cpu-prof') ? join(process.cwd(), '.tmp', 'bench-profiles') : undefined;
const ROUNDS = Number(arg('rounds') ?? (quick ? 1 : 3));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 10) throw new Error(`--rounds must be an integer from 1 to 10, got ${ROUNDS}`);
const PARTS = new Set((arg('parts') ?? 'retrieve,stow,big').split(','));
for (const p of PARTS) if (!['retrieve', 'stow', 'big'].includes(p)) throw new Error(`--parts: unknown part '${p}' (retrieve, stow, big)`);
/** (a)/(b): 4 series of 250 instances of 140x140 16-bit: ~39 KB each, ~39 MB in all (the figure). */
const SERIES = 4;
const PER_SERIES = quick ? 25 : 250;
const ROWS = 140;
/** (c): 512x512 16-bit, ~513 KB each; 2000 make ~1.05 GB. */
const BIG_COUNT = Number(arg('big-instances') ?? (quick ? 200 : 2000));
if (!Number.isInteger(BIG_COUNT) || BIG_COUNT < 1) throw new Error(`--big-instances must be a positive integer, got ${BIG_COUNT}`);
const BIG_SERIES = 4;
const UPLOAD_BATCH = 25;
const WATCHDOG_MS = 30 * 60_000;

const log = (msg: string) => process.stderr.write(`[bench:client] ${msg}\n`);

// ---------------------------------------------------------------------------
// Data (deterministic, generated batch by batch)

interface StudyData {
  studyUID: string;
  count: number;
  instance(k: number): Buffer;
}

function study(key: string, count: number, series: number, rows: number): StudyData {
  const studyUID = synthUid(`client-bench-${key}`, 1);
  const perSeries = Math.ceil(count / series);
  return {
    studyUID,
    count,
    instance(k) {
      const s = Math.floor(k / perSeries) + 1;
      const i = (k % perSeries) + 1;
      return synthInstance({
        patientID: `CLIENTBENCH-${key}`,
        patientName: `CLIENT^BENCH^${key}`,
        studyInstanceUID: studyUID,
        seriesInstanceUID: synthUid(`client-bench-${key}-series`, s),
        seriesNumber: s,
        sopInstanceUID: synthUid(`client-bench-${key}-instance`, s, i),
        instanceNumber: i,
        rows,
        columns: rows,
      });
    },
  };
}

/** STOW-RS upload in batches (to Orthanc or to us), every instance checked stored. */
async function upload(what: string, dicomWebRoot: string, data: StudyData): Promise<number> {
  let bytes = 0;
  for (let k = 0; k < data.count; k += UPLOAD_BATCH) {
    const files = Array.from({ length: Math.min(UPLOAD_BATCH, data.count - k) }, (_, j) => data.instance(k + j));
    bytes += files.reduce((n, f) => n + f.length, 0);
    const writer = new MultipartWriter('application/dicom');
    const body = Buffer.concat([...files.flatMap((f) => [writer.partHead({ 'Content-Type': 'application/dicom' }), f]), writer.end()]);
    const a = await expectOk(`${what}: upload batch ${k / UPLOAD_BATCH}`, send('POST', `${dicomWebRoot}studies`, { 'content-type': writer.contentType, accept: 'application/dicom+json' }, body));
    const stored = (JSON.parse(a.body.toString('utf8')) as Record<string, { Value?: unknown[] }>)['00081199']?.Value?.length ?? 0;
    if (stored !== files.length) throw new Error(`${what}: upload batch ${k / UPLOAD_BATCH}: ${stored} of ${files.length} stored`);
  }
  return bytes;
}

/** Instances held (Orthanc REST /statistics, which we answer too). */
async function countInstances(baseUrl: string): Promise<number> {
  return (await getJson<{ CountInstances: number }>('statistics', `${baseUrl}/statistics`)).CountInstances;
}

async function expectCount(what: string, baseUrl: string, expected: number): Promise<void> {
  const n = await countInstances(baseUrl);
  if (n !== expected) throw new Error(`${what}: ${n} instances stored, expected ${expected}`);
}

/** The Orthanc ID of the study (the same on every side: SHA-1 of the UIDs). */
async function studyId(baseUrl: string, studyUID: string): Promise<string> {
  const studies = await getJson<Array<{ ID: string; MainDicomTags: { StudyInstanceUID: string } }>>('studies', `${baseUrl}/studies?expand`);
  const found = studies.find((s) => s.MainDicomTags.StudyInstanceUID === studyUID);
  if (!found) throw new Error(`study ${studyUID} not found at ${baseUrl}`);
  return found.ID;
}

// ---------------------------------------------------------------------------
// Measures

/** Wall time of `run`, and the CPU seconds the client and the other server (source or target) used meanwhile. */
async function timed(run: () => Promise<unknown>, client: number, other: number): Promise<Measure> {
  const c0 = cpuSeconds(client);
  const o0 = cpuSeconds(other);
  const t0 = now();
  await run();
  return { ms: now() - t0, clientCpu: cpuSeconds(client) - c0, otherCpu: cpuSeconds(other) - o0 };
}

interface Measure {
  ms: number;
  clientCpu: number;
  otherCpu: number;
}

interface Round {
  oursRetrieve?: Measure;
  orthancRetrieve?: Measure;
  oursStow?: Measure;
  oursStowChunked?: Measure;
  orthancStow?: Measure;
  /** VmHWM of our process after retrieve and stow. */
  oursPeakRssMB: number;
  orthancClientPeakRssMB: number;
}

async function round(source: RunningOrthanc, data: StudyData, dirs: string[], open: Array<{ close(): Promise<void> }>): Promise<Round> {
  const keep = <T extends { close(): Promise<void> }>(x: T) => (open.push(x), x);
  // Storage is deleted when the benchmark ends, not between rounds (see --delete-between-rounds in server.ts).
  const orthanc = async (options: Parameters<typeof startOrthanc>[0] = {}) => {
    const o = keep(await startOrthanc({ ...options, keepDir: true }));
    dirs.push(o.dir);
    return o;
  };
  const dir = mkdtempSync(join(tmpdir(), 'bench-client-ours-'));
  dirs.push(dir);
  const targetOurs = await orthanc();
  const targetOursChunked = await orthanc();
  const targetTheirs = await orthanc();
  const ours: OurServer = keep(
    await startOurs(dir, {
      cpuProfileDir: CPU_PROFILE_DIR,
      config: {
        DicomWeb: {
          Servers: {
            source: [`${source.dicomWebUrl}/`],
            target: { Url: `${targetOurs.dicomWebUrl}/`, ChunkedTransfers: false },
            targetChunked: { Url: `${targetOursChunked.dicomWebUrl}/`, ChunkedTransfers: true },
          },
        },
      },
    }),
  );
  const client = await orthanc({ config: { DicomWeb: { Servers: { source: [`${source.dicomWebUrl}/`], target: [`${targetTheirs.dicomWebUrl}/`] } } } });
  const r: Round = { oursPeakRssMB: 0, orthancClientPeakRssMB: 0 };
  const resources = { Resources: [{ Study: data.studyUID }], Synchronous: true };

  if (PARTS.has('retrieve')) {
    log(`(a) ours: retrieve ${data.count} instances from Orthanc A`);
    r.oursRetrieve = await timed(() => postJson('ours retrieve', `${ours.root}servers/source/retrieve`, resources), ours.pid, source.pid);
    await expectCount('ours after retrieve', ours.url, data.count);
    log(`(a) Orthanc B: retrieve ${data.count} instances from Orthanc A`);
    r.orthancRetrieve = await timed(() => postJson('Orthanc retrieve', `${client.url}/dicom-web/servers/source/retrieve`, resources), client.pid, source.pid);
    await expectCount('Orthanc B after retrieve', client.url, data.count);
  } else {
    log('storing the study into both clients directly (no retrieve)');
    await upload('ours', ours.root, data);
    await upload('Orthanc B', `${client.dicomWebUrl}/`, data);
  }

  if (PARTS.has('stow')) {
    const id = await studyId(client.url, data.studyUID);
    const stowBody = { Resources: [id], Synchronous: true };
    log(`(b) ours: stow ${data.count} instances (batches: DicomWeb.StowMaxInstances/StowMaxSize defaults)`);
    r.oursStow = await timed(() => postJson('ours stow', `${ours.root}servers/target/stow`, stowBody), ours.pid, targetOurs.pid);
    await expectCount('target of our stow', targetOurs.url, data.count);
    log(`(b) ours: stow ${data.count} instances, chunked requests (ChunkedTransfers)`);
    r.oursStowChunked = await timed(() => postJson('ours stow chunked', `${ours.root}servers/targetChunked/stow`, stowBody), ours.pid, targetOursChunked.pid);
    await expectCount('target of our chunked stow', targetOursChunked.url, data.count);
    log(`(b) Orthanc B: stow ${data.count} instances`);
    r.orthancStow = await timed(() => postJson('Orthanc stow', `${client.url}/dicom-web/servers/target/stow`, stowBody), client.pid, targetTheirs.pid);
    await expectCount('target of Orthanc stow', targetTheirs.url, data.count);
  }

  r.oursPeakRssMB = peakRssMB(ours.pid);
  r.orthancClientPeakRssMB = peakRssMB(client.pid);
  for (const x of open.splice(0).reverse()) await x.close();
  return r;
}

interface Big {
  bytes: number;
  ms: number;
  peakRssMB: number;
  /** Our process, restarted on the same storage, sending that study to an empty Orthanc (requests cut by the default limits). */
  stowMs: number;
  stowPeakRssMB: number;
}

async function big(source: RunningOrthanc, data: StudyData, bytes: number, dirs: string[], open: Array<{ close(): Promise<void> }>): Promise<Big> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-client-big-'));
  dirs.push(dir);
  const target = await startOrthanc();
  open.push(target);
  const config = { DicomWeb: { Servers: { source: [`${source.dicomWebUrl}/`], target: [`${target.dicomWebUrl}/`] } } };
  let ours = await startOurs(dir, { config });
  open.push(ours);
  log(`(c) ours: retrieve ${data.count} instances (${(bytes / 1e9).toFixed(2)} GB) from Orthanc A`);
  const { ms } = await timed(() => postJson('ours big retrieve', `${ours.root}servers/source/retrieve`, { Resources: [{ Study: data.studyUID }], Synchronous: true }), ours.pid, source.pid);
  await expectCount('ours after the big retrieve', ours.url, data.count);
  const peak = peakRssMB(ours.pid);
  await ours.close();
  open.splice(open.indexOf(ours), 1);

  // A fresh process (VmHWM starts again), same storage: send the study on.
  ours = await startOurs(dir, { config });
  open.push(ours);
  log(`(c) ours: stow those ${data.count} instances to an empty Orthanc`);
  const id = await studyId(ours.url, data.studyUID);
  const stow = await timed(() => postJson('ours big stow', `${ours.root}servers/target/stow`, { Resources: [id], Synchronous: true }), ours.pid, target.pid);
  await expectCount('target of the big stow', target.url, data.count);
  const stowPeak = peakRssMB(ours.pid);
  await ours.close();
  open.splice(open.indexOf(ours), 1);
  await target.close();
  open.splice(open.indexOf(target), 1);
  rmSync(dir, { recursive: true, force: true });
  return { bytes, ms, peakRssMB: peak, stowMs: stow.ms, stowPeakRssMB: stowPeak };
}

// ---------------------------------------------------------------------------
// Report

const fmt = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : (a / b).toFixed(3));
const met = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'yes' : '**no**');

type MeasureKey = 'oursRetrieve' | 'orthancRetrieve' | 'oursStow' | 'oursStowChunked' | 'orthancStow';

/** Median over rounds of one figure of a measure. */
function pick(rounds: Round[], k: MeasureKey, f: keyof Measure = 'ms'): number | undefined {
  const xs = rounds.map((r) => r[k]?.[f]).filter((x): x is number => typeof x === 'number');
  return xs.length ? median(xs) : undefined;
}

function spread(rounds: Round[], k: MeasureKey): string {
  const xs = rounds.map((r) => r[k]?.ms).filter((x): x is number => typeof x === 'number');
  return xs.length ? `${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)} s` : '—';
}

const cpu = (rounds: Round[], k: MeasureKey) => {
  const c = pick(rounds, k, 'clientCpu');
  const o = pick(rounds, k, 'otherCpu');
  return c === undefined || o === undefined ? '—' : `${c.toFixed(2)} s / ${o.toFixed(2)} s`;
};

async function main(): Promise<void> {
  if (!haveOrthanc()) throw new Error("Orthanc is missing: install the Debian packages 'orthanc orthanc-dicomweb'");
  const watchdog = setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60_000} minutes`);
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();

  const dirs: string[] = [];
  const open: Array<{ close(): Promise<void> }> = [];
  let source: RunningOrthanc | undefined;
  try {
    source = await startOrthanc();
    const system = await getJson<{ Version: string }>('system', `${source.url}/system`);
    const plugin = await getJson<{ Version: string }>('plugin', `${source.url}/plugins/dicom-web`);
    const data = study('a', SERIES * PER_SERIES, SERIES, ROWS);
    log(`Orthanc A: storing the ${data.count}-instance study (${ROWS}x${ROWS})`);
    const dataBytes = await upload('Orthanc A', `${source.dicomWebUrl}/`, data);

    const rounds: Round[] = [];
    if (PARTS.has('retrieve') || PARTS.has('stow')) {
      for (let i = 0; i < ROUNDS; i++) {
        log(`round ${i + 1} of ${ROUNDS}`);
        rounds.push(await round(source, data, dirs, open));
      }
    }

    let bigResult: Big | undefined;
    if (PARTS.has('big')) {
      const bigData = study('big', BIG_COUNT, BIG_SERIES, 512);
      log(`Orthanc A: storing the ${BIG_COUNT}-instance study (512x512)`);
      const bigBytes = await upload('Orthanc A big', `${source.dicomWebUrl}/`, bigData);
      bigResult = await big(source, bigData, bigBytes, dirs, open);
    }

    const r = {
      oursRetrieve: pick(rounds, 'oursRetrieve'),
      orthancRetrieve: pick(rounds, 'orthancRetrieve'),
      oursStow: pick(rounds, 'oursStow'),
      oursStowChunked: pick(rounds, 'oursStowChunked'),
      orthancStow: pick(rounds, 'orthancStow'),
    };
    const mb = (dataBytes / 1e6).toFixed(1);
    console.log(`# Remote-client benchmark${quick ? ' (--quick: reduced data, not for comparison)' : ''}\n`);
    console.log(`Date: ${new Date().toISOString()}`);
    console.log(`Machine: ${machineLine()}`);
    console.log(`Node ${process.version}; Orthanc ${system.Version} with DICOMweb plugin ${plugin.Version}`);
    console.log(`Data: one study of ${data.count} instances in ${SERIES} series, ${ROWS}x${ROWS} 16-bit MONOCHROME2 (explicit VR LE), ${mb} MB`);
    console.log(`Each figure: median over ${rounds.length} round(s), fresh clients and empty targets each round\n`);
    console.log('| Measure | Ours | Orthanc 1.10.1 | Ours / Orthanc | Target | Met |\n|---|---:|---:|---:|---|:---:|');
    if (PARTS.has('retrieve')) {
      const q = r.oursRetrieve !== undefined && r.orthancRetrieve !== undefined ? r.oursRetrieve / r.orthancRetrieve <= 0.5 : undefined;
      console.log(`| (a) retrieve ${data.count} instances (${mb} MB) from Orthanc A, synchronous | ${fmt(r.oursRetrieve)} | ${fmt(r.orthancRetrieve)} | ${ratio(r.oursRetrieve, r.orthancRetrieve)} | ≤ 0.5x | ${met(q)} |`);
    }
    if (PARTS.has('stow')) {
      const q = r.oursStow !== undefined && r.orthancStow !== undefined ? r.oursStow / r.orthancStow <= 0.5 : undefined;
      const qc = r.oursStowChunked !== undefined && r.orthancStow !== undefined ? r.oursStowChunked / r.orthancStow <= 0.5 : undefined;
      console.log(`| (b) stow ${data.count} instances to an empty Orthanc, ours in requests of DicomWeb.StowMaxInstances=10 / StowMaxSize=10 MB | ${fmt(r.oursStow)} | ${fmt(r.orthancStow)} | ${ratio(r.oursStow, r.orthancStow)} | ≤ 0.5x | ${met(q)} |`);
      console.log(`| (b) the same, ours with ChunkedTransfers (Orthanc's default; up to 4 chunked requests side by side) | ${fmt(r.oursStowChunked)} | ${fmt(r.orthancStow)} | ${ratio(r.oursStowChunked, r.orthancStow)} | ≤ 0.5x | ${met(qc)} |`);
    }
    if (rounds.length) {
      const peak = Math.max(...rounds.map((x) => x.oursPeakRssMB));
      const theirs = Math.max(...rounds.map((x) => x.orthancClientPeakRssMB));
      console.log(`| Peak RSS of the client process over (a) and (b) (VmHWM) | ${peak.toFixed(0)} MB | ${theirs.toFixed(0)} MB | ${(peak / theirs).toFixed(3)} | | |`);
    }
    if (bigResult) {
      console.log(
        `| (c) peak RSS of our process retrieving ${BIG_COUNT} 512x512 instances (${(bigResult.bytes / 1e9).toFixed(2)} GB) in ${fmt(bigResult.ms)} | ${bigResult.peakRssMB.toFixed(0)} MB | — | — | ours < 300 MB | ${met(bigResult.peakRssMB < 300)} |`,
      );
      console.log(
        `| (c) peak RSS of our process (restarted) sending that study to an empty Orthanc in ${fmt(bigResult.stowMs)}, requests cut by the default StowMaxInstances/StowMaxSize | ${bigResult.stowPeakRssMB.toFixed(0)} MB | — | — | | |`,
      );
    }
    if (rounds.length > 0) {
      console.log('\nCPU time used during each measure (median over rounds): the client process / the other server (source of a retrieve, target of a stow).\n');
      console.log('| Measure | Ours | Orthanc |\n|---|---:|---:|');
      if (PARTS.has('retrieve')) console.log(`| (a) retrieve | ${cpu(rounds, 'oursRetrieve')} | ${cpu(rounds, 'orthancRetrieve')} |`);
      if (PARTS.has('stow')) {
        console.log(`| (b) stow, batches | ${cpu(rounds, 'oursStow')} | ${cpu(rounds, 'orthancStow')} |`);
        console.log(`| (b) stow, chunked | ${cpu(rounds, 'oursStowChunked')} | |`);
      }
    }
    if (rounds.length > 1) {
      console.log('\nSpread over the rounds (lowest–highest):\n');
      console.log('| Measure | Ours | Orthanc |\n|---|---:|---:|');
      if (PARTS.has('retrieve')) console.log(`| (a) retrieve | ${spread(rounds, 'oursRetrieve')} | ${spread(rounds, 'orthancRetrieve')} |`);
      if (PARTS.has('stow')) {
        console.log(`| (b) stow, batches | ${spread(rounds, 'oursStow')} | ${spread(rounds, 'orthancStow')} |`);
        console.log(`| (b) stow, chunked | ${spread(rounds, 'oursStowChunked')} | |`);
      }
    }
  } finally {
    for (const x of open.splice(0).reverse()) await x.close().catch(() => undefined);
    await source?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    clearTimeout(watchdog);
  }
}

main().catch((err) => {
  process.stderr.write(`[bench:client] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
