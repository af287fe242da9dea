/**
 * A real Orthanc 1.10 + DICOMweb plugin (Debian packages orthanc,
 * orthanc-dicomweb) for interoperability tests and benchmarks: free ports,
 * temp storage removed on close, stdout/stderr in <dir>/orthanc.log.
 *
 * Orthanc quirk to remember: it does NOT percent-decode QIDO values
 * (`PatientName=DOE%5E*` finds nothing; send `DOE^*` raw).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Debian packages providing the binary and the plugin (for peerAvailable). */
export const ORTHANC_PACKAGES = 'orthanc orthanc-dicomweb';

export function haveOrthanc(): boolean {
  return existsSync(ORTHANC_BINARY) && existsSync(ORTHANC_DICOMWEB_PLUGIN);
}

export interface OrthancOptions {
  /** Merged into the generated configuration (plain objects merged key by key, e.g. DicomWeb.Servers). */
  config?: Record<string, unknown>;
  /** Milliseconds to wait for GET /system to answer; default 20 s. */
  startTimeout?: number;
  /** close() stops Orthanc but leaves its folder (`dir`) for the caller to remove. */
  keepDir?: boolean;
}

export interface RunningOrthanc {
  /** http://127.0.0.1:{port}, no trailing slash. */
  url: string;
  /** {url}/dicom-web, no trailing slash. */
  dicomWebUrl: string;
  httpPort: number;
  /** Temp directory holding config, storage, index and orthanc.log. */
  dir: string;
  pid: number;
  /** Kills Orthanc and removes `dir`. */
  close(): Promise<void>;
}

/** A port the OS just handed out on loopback (free at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prior = out[key];
    out[key] = isPlainObject(prior) && isPlainObject(value) ? merge(prior, value) : value;
  }
  return out;
}

/** Children still running and their temp dirs: killed and removed if this process exits without closing them. */
const running = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dir] of running) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
});

export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  try {
    return await startOnce(options);
  } catch (first) {
    // A start can fail silently (port taken between freePort() and bind, slow start): retry once.
    try {
      return await startOnce(options);
    } catch (second) {
      throw new Error(`Orthanc did not start twice.\nFirst attempt: ${(first as Error).message}\nSecond attempt: ${(second as Error).message}`);
    }
  }
}

async function startOnce(options: OrthancOptions): Promise<RunningOrthanc> {
  const dir = mkdtempSync(join(tmpdir(), 'orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const config = merge(
    {
      Name: `test-orthanc-${httpPort}`,
      HttpPort: httpPort,
      DicomPort: dicomPort,
      DicomAet: 'ORTHANC',
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'index'),
      Plugins: [ORTHANC_DICOMWEB_PLUGIN],
      DefaultEncoding: 'Utf8',
      RemoteAccessAllowed: true,
      AuthenticationEnabled: false,
      UnknownSopClassAccepted: true,
      OrthancExplorerEnabled: false,
      WebDavEnabled: false,
      HttpCompressionEnabled: false,
      HttpTimeout: 60,
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado', Ssl: false, Servers: {} },
    },
    options.config ?? {},
  );
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logPath = join(dir, 'orthanc.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(ORTHANC_BINARY, [configPath], { cwd: dir, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  running.set(child, dir);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exited = { code: null, signal: null };
      running.delete(child);
      writeFileSync(logPath, `spawn error: ${err.message}\n`, { flag: 'a' });
      resolve();
    });
  });

  const close = async () => {
    // SIGKILL, not SIGTERM: a graceful stop takes 2-4 s (and was seen to hang), and
    // the storage is thrown away anyway.
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + (options.startTimeout ?? 20_000);
  for (;;) {
    if (exited) break;
    try {
      const res = await fetch(`${url}/system`, { signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as { Version?: string; HttpPort?: number };
      if (res.ok && body.HttpPort === httpPort) {
        return { url, dicomWebUrl: `${url}/dicom-web`, httpPort, dir, pid: child.pid!, close };
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const why = exited ? `exited (code ${exited.code}, signal ${exited.signal})` : `did not answer GET ${url}/system in time`;
  let log = '';
  try {
    log = readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    log = '(no log)';
  }
  await close();
  throw new Error(`Orthanc on port ${httpPort} ${why}. Last lines of orthanc.log:\n${log}`);
}
