/**
 * Real local peers for the remote-client tests, on free loopback ports:
 * - certificates made with openssl: a CA, a server certificate for
 *   localhost/127.0.0.1, a client certificate whose key is encrypted;
 * - a TLS front (node:https) forwarding to a plain HTTP DICOMweb server —
 *   Debian's Orthanc 1.10.1 cannot serve HTTPS itself: with "SslEnabled" its
 *   civetweb 1.15 crashes on the first TLS connection (it looks up
 *   SSL_get_peer_certificate, which OpenSSL 3 no longer exports);
 * - an HTTP proxy: CONNECT tunnels and plain forwarding, optionally asking
 *   for Proxy-Authorization, recording what went through it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caFile: string;
  serverCert: Buffer;
  serverKey: Buffer;
  ca: Buffer;
  clientCertFile: string;
  clientKeyFile: string;
  clientKeyPassword: string;
  remove(): void;
}

export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'remote-tls-'));
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=Remote test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext'));
  const clientKeyPassword = 'client-key-passphrase';
  ssl('req', '-newkey', 'rsa:2048', '-keyout', f('client.key'), '-passout', `pass:${clientKeyPassword}`, '-out', f('client.csr'), '-subj', '/CN=workstation');
  writeFileSync(f('client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  ssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.crt'), '-days', '2', '-extfile', f('client.ext'));
  return {
    dir,
    caFile: f('ca.crt'),
    ca: readFileSync(f('ca.crt')),
    serverCert: readFileSync(f('server.crt')),
    serverKey: readFileSync(f('server.key')),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    clientKeyPassword,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunningPeer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function listen(server: http.Server | https.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closer(server: http.Server | https.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: http.Server | https.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  const add = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  server.on('connection', add);
  server.on('secureConnection', add);
  return sockets;
}

/** Forwards one request to `backend` (http://host:port) and its answer back. */
function forward(backend: URL, req: IncomingMessage, res: ServerResponse, path = req.url ?? '/'): void {
  const upstream = http.request(
    { host: backend.hostname, port: backend.port, method: req.method, path, headers: { ...req.headers, host: backend.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

/**
 * HTTPS in front of a plain HTTP server; `requireClientCert` asks for a
 * certificate signed by the test CA. `host` is a loopback address to listen
 * on (127.0.0.2 is not in the server certificate).
 */
export async function startTlsFront(backendUrl: string, certs: TestCertificates, requireClientCert = false, host?: string): Promise<RunningPeer & { clientNames: string[] }> {
  const backend = new URL(backendUrl);
  const clientNames: string[] = [];
  const server = https.createServer(
    { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: requireClientCert, rejectUnauthorized: requireClientCert },
    (req, res) => {
      if (requireClientCert) clientNames.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN));
      forward(backend, req, res);
    },
  );
  const sockets = track(server);
  const port = await listen(server, host);
  return { url: `https://${host ?? 'localhost'}:${port}`, port, clientNames, close: closer(server, sockets) };
}

export interface ProxyRecord {
  method: string;
  /** host:port of a CONNECT, or the absolute URL of a forwarded request. */
  target: string;
}

/** An HTTP proxy: CONNECT tunnels and absolute-URL forwarding; with `auth` ("user:password"), 407 without it. */
export async function startProxy(auth?: string): Promise<RunningPeer & { seen: ProxyRecord[] }> {
  const seen: ProxyRecord[] = [];
  const expected = auth ? `Basic ${Buffer.from(auth).toString('base64')}` : undefined;
  const allowed = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', target: req.url ?? '' });
    if (!allowed(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    forward(target, req, res, target.pathname + target.search);
  });
  server.on('connect', (req: IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push({ method: 'CONNECT', target: req.url ?? '' });
    if (!allowed(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const sockets = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, seen, close: closer(server, sockets) };
}
