/**
 * Server benchmark: our headless server (dist/main/server.js, a separate
 * process) against a real Orthanc 1.10 + DICOMweb plugin, both on free
 * loopback ports with temp storage, fed the same synthetic data
 * (test/support/synth.ts). Measures STOW-RS ingest (PS3.18 10.5), QIDO-RS
 * /studies with a PatientName wildcard (10.6), WADO-RS series metadata and
 * series retrieve (10.4), and each server's peak RSS; prints a Markdown table.
 *
 *   npm run build:main && node dist/test/bench/server.js [--quick]
 *
 * --quick: a tenth of the data and fewer runs (checks the benchmark itself).
 * --rows=N: N x N images instead of 512 x 512 (a CT slice, ~513 KB per file; the default since
 *   2026-12-06 evening, 64 x 64 before: ~9 KB files, against which Orthanc stores ~500 instances
 *   a second, where the issue measured it at ~110/s here; with 512 x 512 it stores ~170/s).
 * --rounds=N: whole runs on fresh servers (default 3, alternating which side goes
 *   first); each figure is the median over rounds. The disk here is a VM's, whose
 *   fsync latency varies from run to run.
 * --only=ours | --only=orthanc: measure one side and print its figures (profiling).
 * --cpu-prof: our server runs under `node --cpu-prof`; the profile lands in .tmp/bench-profiles/.
 * --node-client: the timed GETs (QIDO, metadata, retrieve) are made with node:http, as before
 *   2026-12-06. By default they are made by test/bench/leanClient.ts, which receives into reused
 *   memory: node:http's fresh buffers cost this VM's client ~15 ms of page faults per 1.6 MB
 *   answer (see leanClient.ts), more than our server takes to produce it, for both sides alike.
 *   The report says which client timed the GETs.
 * --delete-between-rounds: each server's storage is deleted as soon as its run ends, as before
 *   2026-12-06 (evening). By default every run's storage is kept until the benchmark ends (at
 *   512x512 that is ~3.2 GB per round): on ext4 without a journal, as here, creating a file
 *   within 30 s of deleting others scans past the deleted inodes (ext4's recently_deleted()),
 *   which made every STOW-RS phase after the first pay for the deletion of the run before it
 *   (~0.15-0.3 ms more kernel time per file created, both servers alike). When the temp
 *   folder's file system has not that room free and 4 GB more, each run's storage is deleted
 *   when it ends and the next run waits until 31 s have passed since.
 * Uploads (STOW-RS) use node:http. No request sends Accept-Encoding, so neither side compresses.
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveOrthanc, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { synthInstance, synthUid } from '../support/synth.js';
import { MultipartWriter } from '../../main/dicomweb/multipart.js';
import { LeanClient } from './leanClient.js';
import { agent, cpuSeconds, expectOk, type Answer, machineLine, median, now, peakRssMB, send, sleep, startOurs as startOurServer } from './common.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined && only !== 'ours' && only !== 'orthanc') throw new Error(`--only must be 'ours' or 'orthanc', got '${only}'`);
const STUDIES = quick ? 20 : 200;
const INSTANCES_PER_STUDY = 10; // STOW set: STUDIES x 10 = 2,000 instances
const STOW_BATCH = 50;
const BIG_SERIES = quick ? 100 : 1_000;
const QIDO_RUNS = quick ? 5 : 30;
const METADATA_RUNS = quick ? 3 : 7;
const RETRIEVE_RUNS = quick ? 3 : 5;
const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? (quick ? 1 : 3));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 10) throw new Error(`--rounds must be an integer from 1 to 10, got ${ROUNDS}`);
const ROWS = Number(process.argv.find((a) => a.startsWith('--rows='))?.slice('--rows='.length) ?? 512); // 16-bit MONOCHROME2, 512x512: ~513 KB per file
if (!Number.isInteger(ROWS) || ROWS < 1 || ROWS > 1024) throw new Error(`--rows must be an integer from 1 to 1024, got ${ROWS}`);
const CPU_PROFILE_DIR = process.argv.includes('--cpu-prof') ? join(process.cwd(), '.tmp', 'bench-profiles') : undefined;
const WATCHDOG_MS = 20 * 60_000;
const LEAN_CLIENT = !process.argv.includes('--node-client');
const DELETE_BETWEEN_ROUNDS = process.argv.includes('--delete-between-rounds');

const SURNAMES = ['MARTIN', 'SMITH', 'JONES', 'MILLER', 'BROWN', 'GARCIA', 'DUPONT', 'TANAKA'];
const GIVEN = ['ANNA', 'JOHN', 'CLARA', 'PETER', 'LUCIA', 'KENJI', 'OMAR', 'SARA', 'IVAN', 'ELLA']; // none starts with M
/** Matches MARTIN and MILLER: a quarter of the studies. Sent raw: Orthanc does not percent-decode QIDO values. */
const QIDO_QUERY = 'PatientName=M*&limit=1000';

// ---------------------------------------------------------------------------
// The servers

interface Server {
  name: string;
  /** DICOMweb root with trailing slash. */
  root: string;
  pid: number;
  close(): Promise<void>;
}

async function startOurs(dir: string): Promise<Server> {
  const ours = await startOurServer(dir, { cpuProfileDir: CPU_PROFILE_DIR });
  return { name: ours.name, root: ours.root, pid: ours.pid, close: ours.close };
}

async function startTheirs(): Promise<{ server: Server; orthanc: RunningOrthanc }> {
  const orthanc = await startOrthanc({ keepDir: true }); // removed by the benchmark (runEnded, or at the end)
  return { orthanc, server: { name: 'Orthanc', root: `${orthanc.dicomWebUrl}/`, pid: orthanc.pid, close: () => orthanc.close() } };
}

// ---------------------------------------------------------------------------
// Data (deterministic: the same bytes for both servers)

interface BenchData {
  /** STOW set: STUDIES studies of INSTANCES_PER_STUDY instances, instance k of k < stowCount. */
  stowCount: number;
  stowInstance(k: number): Buffer;
  bigCount: number;
  bigInstance(k: number): Buffer;
  bigStudyUID: string;
  bigSeriesUID: string;
  expectedQidoMatches: number;
}

/** Generated on demand, batch by batch (deterministic), so big images do not fill the benchmark's memory. */
function benchData(): BenchData {
  const bigStudyUID = synthUid('bench-big-study', 1);
  const bigSeriesUID = synthUid('bench-big-series', 1);
  let expectedQidoMatches = 0;
  for (let s = 0; s < STUDIES; s++) if (SURNAMES[s % SURNAMES.length].startsWith('M')) expectedQidoMatches++;
  return {
    stowCount: STUDIES * INSTANCES_PER_STUDY,
    stowInstance(k) {
      const s = Math.floor(k / INSTANCES_PER_STUDY);
      const i = (k % INSTANCES_PER_STUDY) + 1;
      return synthInstance({
        patientID: `BENCH${s}`,
        patientName: `${SURNAMES[s % SURNAMES.length]}^${GIVEN[Math.floor(s / SURNAMES.length) % GIVEN.length]}^${s}`,
        studyInstanceUID: synthUid('bench-study', s),
        seriesInstanceUID: synthUid('bench-series', s),
        sopInstanceUID: synthUid('bench-instance', s, i),
        instanceNumber: i,
        studyDate: `2023${String((s % 12) + 1).padStart(2, '0')}15`,
        accessionNumber: `A${s}`,
        rows: ROWS,
        columns: ROWS,
      });
    },
    bigCount: BIG_SERIES,
    bigInstance(k) {
      return synthInstance({
        patientID: 'BENCHBIG',
        patientName: 'LARGE^SERIES',
        studyInstanceUID: bigStudyUID,
        seriesInstanceUID: bigSeriesUID,
        sopInstanceUID: synthUid('bench-big-instance', 1, k + 1),
        instanceNumber: k + 1,
        rows: ROWS,
        columns: ROWS,
      });
    },
    bigStudyUID,
    bigSeriesUID,
    expectedQidoMatches,
  };
}

// ---------------------------------------------------------------------------
// Measures


/**
 * STOW-RS in batches, one request at a time. Only the requests are timed (not
 * generating the files). Instances per second, and the total of file sizes.
 */
async function stow(server: Server, count: number, make: (k: number) => Buffer): Promise<{ perSecond: number; bytes: number }> {
  let elapsed = 0;
  let bytes = 0;
  for (let k = 0; k < count; k += STOW_BATCH) {
    const files = Array.from({ length: Math.min(STOW_BATCH, count - k) }, (_, j) => make(k + j));
    bytes += files.reduce((n, f) => n + f.length, 0);
    const writer = new MultipartWriter('application/dicom');
    const body = Buffer.concat([...files.flatMap((f) => [writer.partHead({ 'Content-Type': 'application/dicom' }), f]), writer.end()]);
    const contentType = writer.contentType;
    const t0 = now();
    const a = await expectOk(`${server.name} STOW batch ${k / STOW_BATCH}`, send('POST', `${server.root}studies`, { 'content-type': contentType, accept: 'application/dicom+json' }, body));
    elapsed += now() - t0;
    const answer = JSON.parse(a.body.toString('utf8')) as Record<string, { Value?: unknown[] }>;
    const failed = answer['00081198']?.Value?.length ?? 0; // FailedSOPSequence
    const stored = answer['00081199']?.Value?.length ?? 0; // ReferencedSOPSequence
    if (failed || stored !== files.length) throw new Error(`${server.name} STOW batch ${k / STOW_BATCH}: ${stored} stored, ${failed} failed`);
  }
  return { perSecond: count / (elapsed / 1000), bytes };
}

/**
 * Median time of `run` (request sent → last byte received). `check` validates
 * each answer outside the timing, so the client's own work (JSON.parse of a
 * 1.5 MB answer takes ~12 ms here) is not counted against either server.
 */
async function timed<T>(runs: number, warmups: number, run: () => Promise<T>, check: (answer: T) => void = () => undefined): Promise<number> {
  for (let i = 0; i < warmups; i++) check(await run());
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    const answer = await run();
    times.push(now() - t0);
    check(answer);
  }
  return median(times);
}

interface Results {
  stowPerSecond: number;
  bigSeriesStowPerSecond: number;
  qidoMs: number;
  qidoMatches: number;
  metadataMs: number;
  retrieveMs: number;
  retrieveBytes: number;
  peakRssMB: number;
}

/** A GET to time: the lean client (its body valid until its next request), or node:http (`send`) with --node-client. */
function getter(server: Server): { get: (url: string, headers: Record<string, string>, discard?: boolean) => Promise<Answer>; close: () => void } {
  if (!LEAN_CLIENT) return { get: (url, headers, discard) => send('GET', url, headers, undefined, discard), close: () => undefined };
  const { hostname, port } = new URL(server.root);
  const lean = new LeanClient(hostname, Number(port));
  return {
    get: async (url, headers, discard) => {
      const u = new URL(url);
      return lean.get(`${u.pathname}${u.search}`, headers, discard);
    },
    close: () => lean.close(),
  };
}

async function measure(server: Server, data: BenchData): Promise<Results> {
  const client = getter(server);
  try {
    return await measureWith(server, data, client.get);
  } finally {
    client.close();
  }
}

async function measureWith(server: Server, data: BenchData, get: ReturnType<typeof getter>['get']): Promise<Results> {
  const log = (msg: string) => process.stderr.write(`[bench] ${server.name}: ${msg}\n`);
  log(`STOW-RS ${data.stowCount} instances in batches of ${STOW_BATCH}`);
  const stowPerSecond = (await stow(server, data.stowCount, data.stowInstance)).perSecond;
  log(`STOW-RS the ${data.bigCount}-instance series`);
  const big = await stow(server, data.bigCount, data.bigInstance);
  const bigSeriesStowPerSecond = big.perSecond;

  log(`QIDO-RS /studies?${QIDO_QUERY} x ${QIDO_RUNS}`);
  let qidoMatches = -1;
  const qidoMs = await timed(
    QIDO_RUNS,
    2,
    () => expectOk(`${server.name} QIDO`, get(`${server.root}studies?${QIDO_QUERY}`, { accept: 'application/dicom+json' })),
    (a) => {
      qidoMatches = (JSON.parse(a.body.toString('utf8')) as unknown[]).length;
    },
  );
  if (qidoMatches !== data.expectedQidoMatches) throw new Error(`${server.name} QIDO found ${qidoMatches} studies, expected ${data.expectedQidoMatches}`);

  const seriesPath = `${server.root}studies/${data.bigStudyUID}/series/${data.bigSeriesUID}`;
  log(`WADO-RS series metadata x ${METADATA_RUNS}`);
  const metadataCpu0 = cpuSeconds(server.pid);
  let checkedMetadata: Buffer | undefined;
  const metadataMs = await timed(
    METADATA_RUNS,
    1,
    () => expectOk(`${server.name} metadata`, get(`${seriesPath}/metadata`, { accept: 'application/dicom+json' })),
    (a) => {
      // An answer equal to the one already checked is not parsed again: the garbage of parsing
      // 1.5 MB of JSON made the client collect during the next timed request (+10 ms for ours).
      if (checkedMetadata?.equals(a.body)) return;
      const n = (JSON.parse(a.body.toString('utf8')) as unknown[]).length;
      if (n !== data.bigCount) throw new Error(`${server.name} metadata: ${n} instances, expected ${data.bigCount}`);
      checkedMetadata = LEAN_CLIENT ? Buffer.from(a.body) : a.body; // the lean client reuses its body buffer
    },
  );
  log(`metadata: server CPU ${(((cpuSeconds(server.pid) - metadataCpu0) * 1000) / (METADATA_RUNS + 1)).toFixed(1)} ms per answer`);

  log(`WADO-RS series retrieve x ${RETRIEVE_RUNS}`);
  let retrieveBytes = 0;
  const retrieveMs = await timed(
    RETRIEVE_RUNS,
    1,
    () => expectOk(`${server.name} retrieve`, get(seriesPath, { accept: 'multipart/related; type="application/dicom"' }, true)),
    (a) => {
      retrieveBytes = a.length;
      if (retrieveBytes < big.bytes) throw new Error(`${server.name} retrieve: ${retrieveBytes} bytes, expected at least ${big.bytes}`);
    },
  );

  return { stowPerSecond, bigSeriesStowPerSecond, qidoMs, qidoMatches, metadataMs, retrieveMs, retrieveBytes, peakRssMB: peakRssMB(server.pid) };
}

// ---------------------------------------------------------------------------
// Report

interface Row {
  measure: string;
  ours: number;
  theirs: number;
  unit: string;
  digits: number;
  /** ours/theirs must be >= (higher is better) or <= this. */
  target: { op: '>=' | '<=' | 'abs<'; value: number } | null;
}

function table(rows: Row[]): string {
  const lines = ['| Measure | Ours | Orthanc 1.10.1 | Ours / Orthanc | Target | Met |', '|---|---:|---:|---:|---|:---:|'];
  for (const r of rows) {
    const ratio = r.ours / r.theirs;
    let target = '';
    let met = '';
    if (r.target?.op === 'abs<') {
      target = `ours < ${r.target.value} ${r.unit}`;
      met = r.ours < r.target.value ? 'yes' : '**no**';
    } else if (r.target) {
      target = `${r.target.op === '>=' ? '≥' : '≤'} ${r.target.value}x`;
      met = (r.target.op === '>=' ? ratio >= r.target.value : ratio <= r.target.value) ? 'yes' : '**no**';
    }
    lines.push(`| ${r.measure} | ${r.ours.toFixed(r.digits)} ${r.unit} | ${r.theirs.toFixed(r.digits)} ${r.unit} | ${ratio.toFixed(3)} | ${target} | ${met} |`);
  }
  return lines.join('\n');
}

/** Per measure: the median over rounds (peak RSS: the highest). */
function combine(rounds: Results[]): Results {
  const m = (k: keyof Results) => median(rounds.map((r) => r[k]));
  return {
    stowPerSecond: m('stowPerSecond'),
    bigSeriesStowPerSecond: m('bigSeriesStowPerSecond'),
    qidoMs: m('qidoMs'),
    qidoMatches: rounds[0].qidoMatches,
    metadataMs: m('metadataMs'),
    retrieveMs: m('retrieveMs'),
    retrieveBytes: rounds[0].retrieveBytes,
    peakRssMB: Math.max(...rounds.map((r) => r.peakRssMB)),
  };
}

const spread = (rounds: Results[], k: keyof Results, digits: number) => {
  const xs = rounds.map((r) => r[k]);
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
};

async function main(): Promise<void> {
  if (!haveOrthanc()) throw new Error("Orthanc is missing: install the Debian packages 'orthanc orthanc-dicomweb'");
  const watchdog = setTimeout(() => {
    process.stderr.write(`[bench] gave up after ${WATCHDOG_MS / 60_000} minutes\n`);
    process.exit(3);
  }, WATCHDOG_MS);
  watchdog.unref();

  process.stderr.write(`[bench] ${ROUNDS} round(s) of ${STUDIES * INSTANCES_PER_STUDY} + ${BIG_SERIES} instances (${ROWS}x${ROWS}, 16-bit), generated batch by batch\n`);
  const data = benchData();
  const ourRounds: Results[] = [];
  const theirRounds: Results[] = [];
  let versions = 'Orthanc not run';
  let open: Server | undefined;
  const dirs: string[] = [];

  // Where each run's storage goes once the run ends (see --delete-between-rounds above).
  const runBytes = (data.stowCount + data.bigCount) * data.stowInstance(0).length;
  const { bavail, bsize } = statfsSync(tmpdir());
  const keepStorage = !DELETE_BETWEEN_ROUNDS && 2 * ROUNDS * runBytes + 4e9 < bavail * bsize; // both servers, every round, and 4 GB to spare
  const pauseAfterDeletion = !DELETE_BETWEEN_ROUNDS && !keepStorage;
  let lastDeletion = 0;
  const storageLine = keepStorage
    ? 'kept until the benchmark ends (no file deleted within 30 s before a STOW-RS phase)'
    : pauseAfterDeletion
      ? 'deleted when the run ends (too little room to keep it), the next run starting 31 s after'
      : 'deleted when the run ends (--delete-between-rounds)';
  process.stderr.write(`[bench] storage of each run (~${(runBytes / 1e9).toFixed(2)} GB per server): ${storageLine}\n`);
  function runEnded(dir: string): void {
    if (keepStorage) return;
    rmSync(dir, { recursive: true, force: true });
    lastDeletion = Date.now();
  }
  async function afterDeletion(): Promise<void> {
    const wait = lastDeletion + 31_000 - Date.now();
    if (!pauseAfterDeletion || wait <= 0) return;
    process.stderr.write(`[bench] waiting ${Math.ceil(wait / 1000)} s after deleting the last run's storage\n`);
    await sleep(wait);
  }

  async function runOurs(): Promise<void> {
    await afterDeletion();
    const dir = mkdtempSync(join(tmpdir(), 'bench-ours-'));
    dirs.push(dir);
    open = await startOurs(dir);
    ourRounds.push(await measure(open, data));
    await open.close();
    open = undefined;
    runEnded(dir);
    if (CPU_PROFILE_DIR) process.stderr.write(`[bench] CPU profile of our server written to ${CPU_PROFILE_DIR}\n`);
  }
  async function runOrthanc(): Promise<void> {
    await afterDeletion();
    const { server, orthanc } = await startTheirs();
    open = server;
    const system = JSON.parse((await send('GET', `${orthanc.url}/system`)).body.toString('utf8')) as { Version: string };
    const plugin = JSON.parse((await send('GET', `${orthanc.url}/plugins/dicom-web`)).body.toString('utf8')) as { Version: string };
    versions = `Orthanc ${system.Version} with DICOMweb plugin ${plugin.Version}`;
    dirs.push(orthanc.dir);
    theirRounds.push(await measure(server, data));
    await server.close();
    open = undefined;
    runEnded(orthanc.dir);
  }

  try {
    // One server at a time, so they do not compete for the two cores; the order
    // alternates between rounds so that neither always runs on a warmer machine.
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`[bench] round ${round + 1} of ${ROUNDS}\n`);
      const order = round % 2 === 0 ? [runOurs, runOrthanc] : [runOrthanc, runOurs];
      for (const run of order) {
        if ((run === runOurs && only === 'orthanc') || (run === runOrthanc && only === 'ours')) continue;
        await run();
      }
    }
    if (ourRounds.length === 0 || theirRounds.length === 0) {
      console.log(JSON.stringify({ ours: ourRounds, orthanc: theirRounds }, null, 2));
      return;
    }
    const ours = combine(ourRounds);
    const theirs = combine(theirRounds);

    const n = data.stowCount;
    const rows: Row[] = [
      { measure: `STOW-RS ingest, ${n} instances, batches of ${STOW_BATCH}`, ours: ours.stowPerSecond, theirs: theirs.stowPerSecond, unit: 'inst/s', digits: 0, target: { op: '>=', value: 2 } },
      { measure: `STOW-RS ingest, ${data.bigCount}-instance series (one series)`, ours: ours.bigSeriesStowPerSecond, theirs: theirs.bigSeriesStowPerSecond, unit: 'inst/s', digits: 0, target: null },
      { measure: `QIDO-RS /studies?${QIDO_QUERY.replace('&limit=1000', '')} over ${STUDIES + 1} studies (${ours.qidoMatches} match), median of ${QIDO_RUNS}`, ours: ours.qidoMs, theirs: theirs.qidoMs, unit: 'ms', digits: 1, target: { op: '<=', value: 0.1 } },
      { measure: `WADO-RS /metadata of a ${data.bigCount}-instance series, median of ${METADATA_RUNS}`, ours: ours.metadataMs, theirs: theirs.metadataMs, unit: 'ms', digits: 1, target: { op: '<=', value: 0.1 } },
      { measure: `WADO-RS retrieve of that series (${(ours.retrieveBytes / 1e6).toFixed(1)} MB multipart), median of ${RETRIEVE_RUNS}`, ours: ours.retrieveMs, theirs: theirs.retrieveMs, unit: 'ms', digits: 1, target: { op: '<=', value: 0.7 } },
      { measure: 'Peak RSS of the server process (VmHWM)', ours: ours.peakRssMB, theirs: theirs.peakRssMB, unit: 'MB', digits: 0, target: { op: 'abs<', value: 300 } },
    ];

    console.log(`# Server benchmark${quick ? ' (--quick: reduced data, not for comparison)' : ''}\n`);
    console.log(`Date: ${new Date().toISOString()}`);
    console.log(`Machine: ${machineLine()}`);
    console.log(`Node ${process.version}; ${versions}`);
    console.log(`Timed GETs made by ${LEAN_CLIENT ? 'the lean client (test/bench/leanClient.ts: reused receive memory)' : 'node:http (--node-client)'}; STOW-RS uploads by node:http`);
    console.log(`Data: ${ROWS}x${ROWS} 16-bit MONOCHROME2 instances (explicit VR LE, ~${Math.round(data.stowInstance(0).length / 1024)} KB each), written by test/support/synth.ts`);
    console.log(`Each figure: median over ${ROUNDS} round(s), each round on fresh servers and storage (peak RSS: highest of the rounds)`);
    console.log(`Storage of each run: ${storageLine}\n`);
    console.log(table(rows));
    if (ROUNDS > 1) {
      console.log('\nSpread over the rounds (lowest–highest of the per-round figures):\n');
      console.log('| Measure | Ours | Orthanc |\n|---|---:|---:|');
      for (const [label, k, digits] of [
        ['STOW-RS inst/s', 'stowPerSecond', 0],
        ['STOW-RS one series, inst/s', 'bigSeriesStowPerSecond', 0],
        ['QIDO-RS ms', 'qidoMs', 1],
        ['Metadata ms', 'metadataMs', 1],
        ['Retrieve ms', 'retrieveMs', 1],
      ] as const) {
        console.log(`| ${label} | ${spread(ourRounds, k, digits)} | ${spread(theirRounds, k, digits)} |`);
      }
    }
  } finally {
    await open?.close().catch(() => undefined);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    agent.destroy();
    clearTimeout(watchdog);
  }
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
