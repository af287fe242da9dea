/**
 * Contracts of the remote-client engine: the registry of configured remote
 * DICOMweb servers (DicomWeb.Servers) and the HTTP client that talks to them.
 * Secrets (Password, CertificateKeyPassword) live only inside the registry and
 * the client: nothing here that leaves the main process carries them.
 */
import type { Readable } from 'node:stream';
import type { RemoteServerConfig } from '../config/types.js';

/** What may be shown of a server (routes, logs, renderer): never a secret, only whether one is set. */
export interface RemoteServerInfo {
  Name: string;
  Url: string;
  Username?: string;
  HasPassword: boolean;
  /** Header names only (values may be tokens). */
  HttpHeaders: string[];
  CertificateFile?: string;
  CertificateKeyFile?: string;
  HasCertificateKeyPassword: boolean;
  Pkcs11: boolean;
  Timeout?: number;
  HasDelete: boolean;
  ChunkedTransfers: boolean;
}

export interface RemoteServers {
  /** Server names, sorted. */
  names(): string[];
  /** Full configuration including secrets — for the HTTP client only. */
  config(name: string): RemoteServerConfig | undefined;
  /** Safe description; undefined when unknown. */
  info(name: string): RemoteServerInfo | undefined;
  /**
   * Adds or replaces a server and persists it (config file keeping its comments,
   * or the data directory when the file is read-only/absent). A secret left
   * undefined in `server` keeps the stored one when replacing.
   */
  put(name: string, server: RemoteServerConfig): Promise<void>;
  /** Removes and persists; false when unknown. */
  remove(name: string): Promise<boolean>;
}

export interface RemoteRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  /** Path relative to the server's Url (e.g. '/studies', 'studies/1.2.3/series'); may carry no query. */
  path: string;
  /** Query arguments, encoded so that real servers understand them (remoteQuery.ts). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Stream the body with chunked transfer encoding (no Content-Length). */
  chunked?: boolean;
  signal?: AbortSignal;
}

export interface RemoteResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as a stream; consume it or call destroy(). */
  body: Readable;
  /** The absolute URL requested (for messages). */
  url: string;
}

/** One remote server's HTTP client (got), with auth, TLS, proxy and timeouts applied. */
export interface RemoteClient {
  readonly name: string;
  /**
   * Sends a request. Resolves with any HTTP status (the caller decides);
   * rejects with AppError 'remote-unreachable' (DNS, refused, reset, timeout,
   * TLS) or 'cancelled', the message naming the server and URL.
   */
  request(request: RemoteRequest): Promise<RemoteResponse>;
  /** request() + whole body; rejects with AppError 'remote-status' on status >= 400 unless `acceptStatus` says otherwise. */
  fetchBuffer(request: RemoteRequest, acceptStatus?: (status: number) => boolean): Promise<{ status: number; headers: RemoteResponse['headers']; body: Buffer; url: string }>;
}
