/**
 * What the benchmarks share (test/bench/server.ts, test/bench/client.ts):
 * plain node:http requests (keep-alive, no Accept-Encoding, so nobody
 * compresses), our headless server as a separate process (dist/main/server.js
 * with a generated config), peak RSS from /proc, medians, the machine line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/orthanc.js';

export const REQUEST_TIMEOUT_MS = 300_000;

export const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Empty when the body was discarded. */
  body: Buffer;
  /** Body length in bytes. */
  length: number;
}

/** One request; the whole answer is read (and kept unless `discard`, for big retrieves). */
export function send(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer, discard = false, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (c: Buffer) => {
        length += c.length;
        if (!discard || res.statusCode !== 200) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), length }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function expectOk(what: string, answer: Promise<Answer>): Promise<Answer> {
  const a = await answer;
  if (a.status < 200 || a.status >= 300) throw new Error(`${what}: HTTP ${a.status}: ${a.body.toString('utf8', 0, 400)}`);
  return a;
}

/** POST of a JSON body, the JSON answer parsed (2xx expected). */
export async function postJson<T = unknown>(what: string, url: string, body: unknown): Promise<T> {
  const a = await expectOk(what, send('POST', url, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(body))));
  return JSON.parse(a.body.toString('utf8')) as T;
}

export async function getJson<T = unknown>(what: string, url: string): Promise<T> {
  const a = await expectOk(what, send('GET', url, { accept: 'application/json' }));
  return JSON.parse(a.body.toString('utf8')) as T;
}

export interface OurServer {
  name: string;
  /** http://127.0.0.1:{port}, no trailing slash. */
  url: string;
  /** DICOMweb root with trailing slash. */
  root: string;
  pid: number;
  close(): Promise<void>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Our headless server in `dir` (storage, config.json, server.log), on a free
 * port. `config` is merged over the benchmark's defaults (DicomWeb key by key).
 * `cpuProfileDir`: run under `node --cpu-prof`, the profile written there. `nodeArgs`: more node options (probes).
 */
export async function startOurs(dir: string, options: { config?: Record<string, unknown>; cpuProfileDir?: string; nodeArgs?: string[] } = {}): Promise<OurServer> {
  const port = await freePort();
  const configPath = join(dir, 'config.json');
  const base: Record<string, unknown> = {
    Name: 'bench',
    HttpPort: port,
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'storage'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  const extra = options.config ?? {};
  const merged: Record<string, unknown> = { ...base, ...extra };
  if (isPlainObject(extra.DicomWeb)) merged.DicomWeb = { ...(base.DicomWeb as Record<string, unknown>), ...extra.DicomWeb };
  writeFileSync(configPath, JSON.stringify(merged));
  const serverJs = fileURLToPath(new URL('../../main/server.js', import.meta.url));
  const logPath = join(dir, 'server.log');
  const log = openSync(logPath, 'a');
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [])];
  // BENCH_NODE_ARGS: extra Node/V8 flags for our server (e.g. --trace-gc while profiling); its output goes to server.log.
  if (process.env.BENCH_NODE_ARGS) nodeArgs.push(...process.env.BENCH_NODE_ARGS.split(/\s+/).filter(Boolean));
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, serverJs, configPath], { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const killOnExit = () => child.kill('SIGKILL'); // watchdog or crash: never leave our server behind
  process.once('exit', killOnExit);
  void exit.then(() => process.off('exit', killOnExit));
  const url = `http://127.0.0.1:${port}`;
  const root = `${url}/dicom-web/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await send('GET', `${root}studies?limit=1`, { accept: 'application/dicom+json' })).status < 500) break;
    } catch {
      // not listening yet
    }
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`our server did not start (${exited ? 'exited' : 'no answer in 30 s'}); log:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
    }
    await sleep(100);
  }
  return {
    name: 'ours',
    url,
    root,
    pid: child.pid!,
    close: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
    },
  };
}

/** Peak resident set size (VmHWM) of a process, in MB. */
export function peakRssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU time (user + system) a process has used so far, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const now = () => performance.now();

/** "Intel(R) Xeon(R) …, 2 cores, 23.5 GiB RAM" */
export function machineLine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`;
}
