/**
 * CPU per request of one pixel request kind, on our server or Orthanc (+ GDCM),
 * split by thread: a steadier measure than answers per second on a shared
 * 2-core VM, where the client and the server compete and the rate moves by
 * ±15% between runs. Same data as bench:pixels (test/bench/pixelSeries.ts).
 *
 *   npm run build:main && node dist/test/bench/pixelCpu.js [--side=ours|orthanc]
 *     [--syntax=native|rle|jpegls|j2k] [--path=/rendered] [--accept=image/jpeg] [--requests=1500]
 *
 * --path is appended to …/instances/{i} (e.g. '/rendered?viewport=128,128',
 * '/frames/1'). Prints answers per second with 4 requests in flight, and the
 * server's CPU milliseconds per request (utime + stime from /proc, per thread
 * name; our main thread as 'main'; threads that ended meanwhile together).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultipartWriter } from '../../main/dicomweb/multipart.js';
import { ORTHANC_DICOMWEB_PLUGIN, startOrthanc } from '../support/orthanc.js';
import { agent, expectOk, send, startOurs } from './common.js';
import { writePixelSeries } from './pixelSeries.js';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const side = arg('side', 'ours');
const syntax = arg('syntax', 'native');
const path = arg('path', '/rendered');
const accept = arg('accept', 'image/jpeg');
const requests = Number(arg('requests', '1500'));
const CLIENTS = 4;
const CLOCK_TICK_MS = 10; // USER_HZ = 100 on Linux

interface Server {
  root: string;
  pid: number;
  close(): Promise<void>;
}

async function start(dir: string): Promise<Server> {
  if (side === 'ours') return startOurs(dir);
  if (side !== 'orthanc') throw new Error(`--side must be ours or orthanc, got ${side}`);
  const orthanc = await startOrthanc({
    config: {
      Plugins: [ORTHANC_DICOMWEB_PLUGIN, '/usr/share/orthanc/plugins/libOrthancGdcm.so'],
      // As in bench:pixels: GDCM for JPEG 2000 only (its transcoder crashes Orthanc 1.10.1's HTTP threads).
      Gdcm: { Enable: true, RestrictTransferSyntaxes: ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'] },
    },
  });
  return { root: `${orthanc.dicomWebUrl}/`, pid: orthanc.pid, close: () => orthanc.close() };
}

/** utime + stime in clock ticks from a /proc stat line. */
function statTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU clock ticks so far per thread name (the process's first thread as
 * 'main'), and '(ended threads)': the process's total, which keeps the time of
 * threads that have ended (OpenJPEG's decoding threads in Orthanc), less the
 * live threads'.
 */
function threadTicks(pid: number): Map<string, number> {
  const ticks = new Map<string, number>();
  const total = statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    ticks.set(name, (ticks.get(name) ?? 0) + statTicks(stat));
  }
  ticks.set('(ended threads)', total - [...ticks.values()].reduce((a, b) => a + b, 0));
  return ticks;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-pixel-cpu-'));
let server: Server | undefined;
try {
  const data = await writePixelSeries(mkdirIn(dir, 'data'), 48, false);
  const series = data.series.find((s) => s.name === syntax);
  if (!series) throw new Error(`--syntax must be one of ${data.series.map((s) => s.name).join(', ')}`);
  server = await start(mkdirIn(dir, 'server'));
  for (let k = 0; k < series.instances.length; k += 12) {
    const writer = new MultipartWriter('application/dicom');
    const parts = series.instances.slice(k, k + 12).flatMap((i) => [writer.partHead({ 'Content-Type': 'application/dicom' }), readFileSync(i.file)]);
    await expectOk('STOW', send('POST', `${server.root}studies`, { 'content-type': writer.contentType, accept: 'application/dicom+json' }, Buffer.concat([...parts, writer.end()])));
  }
  agent.maxSockets = CLIENTS;
  const root = server.root;
  const run = async (count: number) => {
    let next = 0;
    const client = async () => {
      while (next < count) {
        const instance = series.instances[next++ % series.instances.length]!;
        await expectOk(path, send('GET', `${root}studies/${data.studyInstanceUID}/series/${series.seriesInstanceUID}/instances/${instance.sopInstanceUID}${path}`, { accept }));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
  };
  await run(200); // warm-up
  const before = threadTicks(server.pid);
  const t0 = performance.now();
  await run(requests);
  const seconds = (performance.now() - t0) / 1000;
  const perThread = [...threadTicks(server.pid)]
    .map(([name, ticks]) => [name, ((ticks - (before.get(name) ?? 0)) * CLOCK_TICK_MS) / requests] as const)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = perThread.reduce((sum, [, ms]) => sum + ms, 0);
  console.log(
    `${side} ${syntax} ${path} (${accept}): ${(requests / seconds).toFixed(0)}/s; CPU per request ${total.toFixed(2)} ms (${perThread.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(', ')})`,
  );
} finally {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}

function mkdirIn(parent: string, name: string): string {
  const p = join(parent, name);
  mkdirSync(p);
  return p;
}
