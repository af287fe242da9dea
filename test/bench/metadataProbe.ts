/**
 * Where the wall time of WADO-RS /metadata of the bench:server 1000-instance
 * series (64x64) goes: the same requests made by three clients, node:http as
 * bench:server makes them (fresh buffers, Buffer.concat), the lean client
 * (test/bench/leanClient.ts, reused memory) and curl (one connection), against
 * our server or Orthanc. Per node:http/lean request: first and last byte, the
 * server's main-thread CPU (ours), the client's CPU and both sides' page faults.
 *
 *   npm run build:main && node dist/test/bench/metadataProbe.js [--runs=30] [--orthanc] [--each] [--server-arg=--some-node-flag]
 *
 * --each: one line per request (the first requests of a fresh client cost the most).
 * --lean-only: only the lean client (e.g. to profile our server with --server-arg=--cpu-prof).
 * Wall-clock figures: run it on an otherwise idle machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultipartWriter } from '../../main/dicomweb/multipart.js';
import { startOrthanc } from '../support/orthanc.js';
import { synthInstance, synthUid } from '../support/synth.js';
import { agent, expectOk, median, now, send, startOurs } from './common.js';
import { LeanClient } from './leanClient.js';

const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? 30);
const ORTHANC = process.argv.includes('--orthanc');
const EACH = process.argv.includes('--each');
const LEAN_ONLY = process.argv.includes('--lean-only');
const SERVER_ARGS = process.argv.filter((a) => a.startsWith('--server-arg=')).map((a) => a.slice('--server-arg='.length));
const COUNT = 1000;
const ACCEPT = { accept: 'application/dicom+json' };

/** CPU time of a process's main thread so far, in ms (/proc/<pid>/schedstat: ns on CPU). */
function mainThreadMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/** Minor page faults of a process so far (/proc/<pid>/stat, field 10). */
function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

interface Timing {
  first: number;
  last: number;
  serverMs: number;
  clientMs: number;
  clientFaults: number;
  serverFaults: number;
}

/** As test/bench/common.ts `send` receives (chunks kept, joined at the end), the first byte noted. */
function nodeHttpGet(url: string, t0: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let first = -1;
    const req = httpRequest(url, { agent, headers: ACCEPT }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (first < 0) first = now() - t0;
        chunks.push(c);
      });
      res.on('end', () => {
        Buffer.concat(chunks);
        resolve(first);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed(pid: number, get: (t0: number) => Promise<number>): Promise<Timing> {
  const server0 = ORTHANC ? 0 : mainThreadMs(pid);
  const serverFaults0 = minorFaults(pid);
  const client0 = mainThreadMs(process.pid);
  const clientFaults0 = minorFaults(process.pid);
  const t0 = now();
  const first = await get(t0);
  const last = now() - t0;
  return {
    first,
    last,
    serverMs: ORTHANC ? NaN : mainThreadMs(pid) - server0,
    clientMs: mainThreadMs(process.pid) - client0,
    clientFaults: minorFaults(process.pid) - clientFaults0,
    serverFaults: minorFaults(pid) - serverFaults0,
  };
}

function summary(name: string, ts: Timing[]): string {
  const m = (k: keyof Timing) => median(ts.map((t) => t[k])).toFixed(1);
  const lines = [
    `${name} x ${ts.length}: last byte ${m('last')} ms (min ${Math.min(...ts.map((t) => t.last)).toFixed(1)}), ${Number.isNaN(ts[0].first) ? '' : `first byte ${m('first')} ms; `}` +
      `main thread CPU per answer: server ${m('serverMs')} ms, client ${m('clientMs')} ms; page faults: server ${m('serverFaults')}, client ${m('clientFaults')} (medians)`,
  ];
  if (EACH) for (const t of ts) lines.push(`  ${Number.isNaN(t.first) ? '' : `first ${t.first.toFixed(1)}, `}last ${t.last.toFixed(1)} ms; CPU server ${t.serverMs.toFixed(1)} client ${t.clientMs.toFixed(1)} ms; faults server ${t.serverFaults} client ${t.clientFaults}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'probe-meta-'));
  const server = ORTHANC
    ? await startOrthanc().then((o) => ({ root: `${o.dicomWebUrl}/`, pid: o.pid, close: () => o.close() }))
    : await startOurs(dir, { nodeArgs: SERVER_ARGS });
  const studyUID = synthUid('bench-big-study', 1);
  const seriesUID = synthUid('bench-big-series', 1);
  try {
    for (let k = 0; k < COUNT; k += 50) {
      const writer = new MultipartWriter('application/dicom');
      const parts: Buffer[] = [];
      for (let j = k; j < k + 50; j++) {
        parts.push(writer.partHead({ 'Content-Type': 'application/dicom' }));
        parts.push(
          synthInstance({ patientID: 'BENCHBIG', patientName: 'LARGE^SERIES', studyInstanceUID: studyUID, seriesInstanceUID: seriesUID, sopInstanceUID: synthUid('bench-big-instance', 1, j + 1), instanceNumber: j + 1, rows: 64, columns: 64 }),
        );
      }
      parts.push(writer.end());
      await expectOk('STOW', send('POST', `${server.root}studies`, { 'content-type': writer.contentType, accept: 'application/dicom+json' }, Buffer.concat(parts)));
    }
    const url = `${server.root}studies/${studyUID}/series/${seriesUID}/metadata`;
    const reference = (await expectOk('metadata', send('GET', url, ACCEPT))).body;
    console.log(`${ORTHANC ? 'Orthanc' : 'ours'}: ${reference.length} bytes per answer, one warm-up request per client`);

    const http: Timing[] = [];
    for (let i = 0; i < (LEAN_ONLY ? 0 : RUNS); i++) http.push(await timed(server.pid, (t0) => nodeHttpGet(url, t0)));
    if (!LEAN_ONLY) console.log(summary('node:http', http));

    const u = new URL(url);
    const lean = new LeanClient(u.hostname, Number(u.port));
    const leanTimes: Timing[] = [];
    for (let i = 0; i <= RUNS; i++) {
      let body: Buffer = Buffer.alloc(0);
      const t = await timed(server.pid, async () => {
        body = (await lean.get(u.pathname, ACCEPT)).body;
        return NaN;
      });
      if (!body.equals(reference)) throw new Error('the lean client received other bytes than node:http');
      if (i > 0) leanTimes.push(t);
    }
    lean.close();
    console.log(summary('lean client', leanTimes));

    if (LEAN_ONLY) return;
    const curl = execFileSync('curl', ['-s', '-H', 'accept: application/dicom+json', '-w', '%{time_starttransfer} %{time_total}\\n', ...Array.from({ length: RUNS + 1 }, () => ['-o', '/dev/null', url]).flat()], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(' ').map((x) => Number(x) * 1000));
    console.log(`curl x ${RUNS}: last byte ${median(curl.map((c) => c[1])).toFixed(1)} ms (min ${Math.min(...curl.map((c) => c[1])).toFixed(1)}), first byte ${median(curl.map((c) => c[0])).toFixed(1)} ms`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
