/**
 * Small real HTTP servers (node:http on a free loopback port) that play a
 * remote DICOMweb server for the retrieve tests — and misbehave on purpose:
 * slow parts, resets mid-stream, error statuses, malformed multipart. Each
 * serves QIDO-RS `studies/{s}/series` and WADO-RS `studies/{s}[/series/{se}]`
 * from synthetic instances held in memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { synthStudy, synthUid } from '../support/synth.js';

export interface FakeStudy {
  studyUID: string;
  /** Series UID -> its instances (Part-10 bytes), in order. */
  series: Map<string, Buffer[]>;
  all: Buffer[];
}

/** A synthetic study of `seriesCount` x `perSeries` small instances. */
export function fakeStudy(key: string, seriesCount: number, perSeries: number): FakeStudy {
  const all = synthStudy({ key, patientID: `P-${key}`, patientName: `FAKE^${key.toUpperCase()}`, series: seriesCount, instancesPerSeries: perSeries, rows: 8, columns: 8 });
  const series = new Map<string, Buffer[]>();
  for (let s = 1; s <= seriesCount; s++) series.set(synthUid(key, 2, s), all.slice((s - 1) * perSeries, s * perSeries));
  return { studyUID: synthUid(key, 1), series, all };
}

export const BOUNDARY = 'fake-wado-boundary-0123';

/** What a test decides for each request; `next()` serves it normally. */
export type FakeHandler = (ctx: {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path below /dicom-web/, without the query. */
  path: string;
  query: URLSearchParams;
  /** 1 for the first request to this path. */
  count: number;
  /** Serves the request properly (QIDO or WADO). */
  next(): Promise<void>;
}) => Promise<void> | void;

export interface FakeWado {
  /** {base}/dicom-web/ */
  url: string;
  /** Every request: method, path below /dicom-web/ and query, headers. */
  requests: Array<{ path: string; query: URLSearchParams; headers: IncomingMessage['headers'] }>;
  /** WADO-RS requests answering at the same time, and the most seen. */
  concurrent: number;
  maxConcurrent: number;
  close(): Promise<void>;
}

function qidoSeries(study: FakeStudy, only?: string | null): unknown[] {
  return [...study.series.entries()]
    .filter(([uid]) => !only || uid === only)
    .map(([uid, instances], i) => ({
      '0020000D': { vr: 'UI', Value: [study.studyUID] },
      '0020000E': { vr: 'UI', Value: [uid] },
      '00200011': { vr: 'IS', Value: [i + 1] },
      '00201209': { vr: 'IS', Value: [instances.length] },
    }));
}

export function partHead(first: boolean): Buffer {
  return Buffer.from(`${first ? '' : '\r\n'}--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
}
export const CLOSE = Buffer.from(`\r\n--${BOUNDARY}--\r\n`, 'latin1');
export const MULTIPART_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

/** Writes the instances as a multipart answer; `beforePart(i)` may delay or cut it (return false to stop writing). */
export async function writeInstances(res: ServerResponse, instances: Buffer[], beforePart?: (i: number) => Promise<boolean | void>): Promise<void> {
  let closed = false;
  res.once('close', () => (closed = true));
  res.writeHead(200, { 'Content-Type': MULTIPART_TYPE });
  for (let i = 0; i < instances.length; i++) {
    if (beforePart && (await beforePart(i)) === false) return;
    if (closed) return; // the client went away
    res.write(partHead(i === 0));
    res.write(instances[i]);
  }
  res.end(CLOSE);
}

/** The instances the WADO-RS path asks for, or undefined. */
export function instancesOf(study: FakeStudy, path: string): Buffer[] | undefined {
  const m = /^studies\/([0-9.]+)(?:\/series\/([0-9.]+))?$/.exec(path);
  if (!m || m[1] !== study.studyUID) return undefined;
  return m[2] ? study.series.get(m[2]) : study.all;
}

export async function startFakeWado(study: FakeStudy, handler?: FakeHandler): Promise<FakeWado> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const fake: FakeWado = { url: '', requests: [], concurrent: 0, maxConcurrent: 0, close: async () => undefined };

  const serve = async (path: string, query: URLSearchParams, res: ServerResponse) => {
    if (path === `studies/${study.studyUID}/series`) {
      res.writeHead(200, { 'Content-Type': 'application/dicom+json' });
      res.end(JSON.stringify(qidoSeries(study, query.get('SeriesInstanceUID'))));
      return;
    }
    const instances = instancesOf(study, path);
    if (!instances) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ Message: `no such resource: ${path}` }));
      return;
    }
    await writeInstances(res, instances);
  };

  const server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://x');
    const path = parsed.pathname.replace(/^\/dicom-web\//, '');
    const count = (counts.get(path) ?? 0) + 1;
    counts.set(path, count);
    fake.requests.push({ path, query: parsed.searchParams, headers: req.headers });
    const wado = !path.endsWith('/series');
    if (wado) fake.maxConcurrent = Math.max(fake.maxConcurrent, ++fake.concurrent);
    res.once('close', () => {
      if (wado) fake.concurrent--;
    });
    const next = () => serve(path, parsed.searchParams, res);
    Promise.resolve(handler ? handler({ req, res, path, query: parsed.searchParams, count, next }) : next()).catch((err: Error) => {
      res.destroy(err);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}/dicom-web/`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return fake;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
