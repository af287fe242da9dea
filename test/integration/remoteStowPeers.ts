/**
 * Small real HTTP servers (node:http on a free loopback port) for the STOW-RS
 * client tests: a recording proxy in front of a real server (counts the
 * requests, records Content-Length / Transfer-Encoding and the bytes that
 * went through), and remotes that misbehave on purpose (a status, a reset in
 * the middle of the body, an answer that never comes), each recording what it
 * received.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readMultipart } from '../../main/dicomweb/multipart.js';
import { parseMediaType } from '../../main/dicomweb/mediaType.js';

export interface Recorded {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  /** Body bytes received so far. */
  bytes: number;
  /** Set once the whole body arrived. */
  complete: boolean;
  /** The client closed the connection before an answer was sent. */
  closedBeforeAnswer: boolean;
}

export interface Peer {
  /** http://127.0.0.1:{port} */
  base: string;
  /** {base}/dicom-web/ — the Url to configure. */
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type PeerHandler = (req: IncomingMessage, res: ServerResponse, recorded: Recorded, index: number) => void | Promise<void>;

/** A server calling `handler` for each request (the handler reads the body, or not). */
export async function startPeer(handler: PeerHandler): Promise<Peer> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: 0, complete: false, closedBeforeAnswer: false };
    requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.closedBeforeAnswer = true;
    });
    req.on('data', (c: Buffer) => (recorded.bytes += c.length));
    req.on('end', () => (recorded.complete = true));
    Promise.resolve(handler(req, res, recorded, requests.length - 1)).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: `${base}/dicom-web/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The Part-10 bodies of a STOW-RS request. */
export async function readStowParts(req: IncomingMessage): Promise<Buffer[]> {
  const boundary = parseMediaType(String(req.headers['content-type'])).params.boundary!;
  const parts: Buffer[] = [];
  for await (const part of readMultipart(req, boundary)) parts.push(part.body);
  return parts;
}

/** What a faulty proxy does with one request. */
export type ProxyAction =
  | 'forward'
  /** Reads part of the body, then destroys the connection. */
  | 'reset'
  /** Reads the whole body and never answers. */
  | 'hang'
  | { status: number; body?: string; contentType?: string }
  /** Answers as it likes (reads the body itself). */
  | ((req: IncomingMessage, res: ServerResponse) => Promise<void>);

/**
 * A proxy to `target` (http://host:port): same method, path, headers and body,
 * both ways streamed — unless `decide` says otherwise for that request
 * (index 0 for the first request this proxy sees).
 */
export function startProxy(target: string, decide: (index: number, req: IncomingMessage) => ProxyAction = () => 'forward'): Promise<Peer> {
  const to = new URL(target);
  return startPeer(async (req, res, recorded, index) => {
    const action = decide(index, req);
    if (action === 'forward') {
      await new Promise<void>((resolve) => {
        const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
        });
        upstream.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy: ${err.message}`);
          resolve();
        });
        req.pipe(upstream);
      });
    } else if (action === 'reset') {
      await new Promise<void>((resolve) => {
        const check = () => {
          if (recorded.bytes >= 1024 || recorded.complete) {
            req.off('data', check);
            req.socket.destroy();
            resolve();
          }
        };
        req.on('data', check);
        req.on('end', check);
      });
    } else if (action === 'hang') {
      req.resume();
    } else if (typeof action === 'function') {
      await action(req, res);
    } else {
      await readBody(req);
      res.writeHead(action.status, { 'content-type': action.contentType ?? 'application/json' });
      res.end(action.body ?? '');
    }
  });
}

/** A proxy that forwards everything, recording each request. */
export function startRecordingProxy(target: string): Promise<Peer> {
  return startProxy(target);
}

/** A STOW-RS response dataset (PS3.18 Table 10.5.3-1) in DICOM JSON. */
export function stowResponse(stored: string[], failed: Array<{ uid: string; reason: number }>): string {
  const ref = (uid: string) => ({ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [uid] } });
  const dataset: Record<string, unknown> = {};
  if (failed.length) dataset['00081198'] = { vr: 'SQ', Value: failed.map((f) => ({ ...ref(f.uid), '00081197': { vr: 'US', Value: [f.reason] } })) };
  dataset['00081199'] = stored.length ? { vr: 'SQ', Value: stored.map(ref) } : { vr: 'SQ' };
  return JSON.stringify(dataset);
}
