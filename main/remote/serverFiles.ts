/**
 * Where remote servers changed at run time (PUT/DELETE {Root}servers/{name})
 * are kept, so that they survive a restart:
 *
 * - the configuration file itself, when it is one writable file: only its
 *   "DicomWeb" → "Servers" → name entry is edited (jsoncEdit.ts), so comments
 *   and formatting elsewhere stay byte for byte; the
 *   new text is checked to parse, written to a temporary file and renamed
 *   over the old one; on any error the file is left as it was;
 * - otherwise (no file, a read-only file — write bits cleared, even for root —
 *   or a directory of files) `<data dir>/remote-servers.json`:
 *   { "Servers": { name: entry }, "Removed": [names from the config file] },
 *   merged over DicomWeb.Servers at start.
 *
 * Entries are written in Orthanc's object form without run-time secrets
 * (those go to secrets.json). The configuration loader wants "Username" and
 * "Password" together, so when a password is kept in secrets.json its
 * username goes there too and the entry holds neither.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { chmod, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import jsonc from 'jsonc-parser';
import type { RemoteServerConfig } from '../config/types.js';
import { ConfigReader, isPlainObject } from '../config/configValues.js';
import { readRemoteServers } from '../config/remoteServers.js';
import { AppError } from '../errors.js';
import { removeProperty, setProperty } from './jsoncEdit.js';
import { writePrivateFile } from './secrets.js';

export const OVERLAY_FILE = 'remote-servers.json';

export type ServerPersistence =
  | { kind: 'config-file'; path: string }
  | { kind: 'data-directory'; path: string };

/** The configuration file when it may be edited, else the data directory's file. */
export function choosePersistence(sourcePath: string | undefined, dataDirectory: string): ServerPersistence {
  if (sourcePath && isWritableFile(sourcePath)) return { kind: 'config-file', path: sourcePath };
  return { kind: 'data-directory', path: join(dataDirectory, OVERLAY_FILE) };
}

function isWritableFile(path: string): boolean {
  try {
    const st = statSync(path);
    if (!st.isFile()) return false;
    // A file whose write bits are all cleared is read-only on purpose, even for root.
    if ((st.mode & 0o222) === 0) return false;
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Which secrets of an entry are written in the entry itself (they came from the configuration file). */
export interface InlineSecrets {
  Password: boolean;
  CertificateKeyPassword: boolean;
}

/** Orthanc's object form of a server, with only the inline secrets. */
export function entryOf(server: RemoteServerConfig, inline: InlineSecrets): Record<string, unknown> {
  const entry: Record<string, unknown> = { Url: server.Url };
  if (server.Username !== undefined) entry.Username = server.Username;
  if (server.Password !== undefined && inline.Password) entry.Password = server.Password;
  if (server.HttpHeaders && Object.keys(server.HttpHeaders).length > 0) entry.HttpHeaders = server.HttpHeaders;
  if (server.CertificateFile !== undefined) entry.CertificateFile = server.CertificateFile;
  if (server.CertificateKeyFile !== undefined) entry.CertificateKeyFile = server.CertificateKeyFile;
  if (server.CertificateKeyPassword !== undefined && inline.CertificateKeyPassword) entry.CertificateKeyPassword = server.CertificateKeyPassword;
  if (server.Pkcs11 !== undefined) entry.Pkcs11 = server.Pkcs11;
  if (server.Timeout !== undefined) entry.Timeout = server.Timeout;
  if (server.HasDelete !== undefined) entry.HasDelete = server.HasDelete;
  if (server.ChunkedTransfers !== undefined) entry.ChunkedTransfers = server.ChunkedTransfers;
  return entry;
}

// --- the configuration file ----------------------------------------------------

/** Sets (entry) or removes (undefined) DicomWeb.Servers[name] in the file, keeping everything else byte for byte. */
export async function editConfigFileServer(path: string, name: string, entry: Record<string, unknown> | undefined): Promise<void> {
  const what = entry ? `save server '${name}' to` : `remove server '${name}' from`;
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = (await stat(path)).mode & 0o7777;
  } catch (err) {
    throw new AppError('config', `cannot ${what} '${path}': ${(err as Error).message}`);
  }
  const bom = text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
  const body = bom ? text.slice(1) : text;
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(body, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !tree || tree.type !== 'object') {
    throw new AppError('config', `cannot ${what} '${path}': the file is no longer a valid configuration (it was changed since start); it was left as it is`);
  }
  const servers = jsonc.findNodeAtLocation(tree, ['DicomWeb', 'Servers']);
  if (!entry && !servers?.children?.some((p) => p.children?.[0]?.value === name)) return;
  const dicomWeb = jsonc.findNodeAtLocation(tree, ['DicomWeb']);
  if ((dicomWeb && dicomWeb.type !== 'object') || (servers && servers.type !== 'object')) {
    throw new AppError('config', `cannot ${what} '${path}': DicomWeb.Servers in the file is not an object; it was left as it is`);
  }
  let edited: string;
  try {
    edited = entry ? setProperty(body, ['DicomWeb', 'Servers', name], entry) : removeProperty(body, ['DicomWeb', 'Servers', name]);
  } catch (err) {
    throw new AppError('config', `cannot ${what} '${path}': ${(err as Error).message}; the file was left as it is`);
  }
  const check: jsonc.ParseError[] = [];
  const value = jsonc.parse(edited, check, { allowTrailingComma: true, disallowComments: false }) as { DicomWeb?: { Servers?: Record<string, unknown> } };
  const written = value?.DicomWeb?.Servers?.[name];
  if (check.length > 0 || JSON.stringify(written) !== JSON.stringify(entry)) {
    throw new AppError('internal', `cannot ${what} '${path}': the edited text would not read back as written; the file was left as it is`);
  }
  await replaceFile(path, bom + edited, mode, what);
}

async function replaceFile(path: string, text: string, mode: number, what: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode & 0o777);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new AppError('config', `cannot ${what} '${path}': ${(err as Error).message}; the file was left as it is`);
  }
}

// --- the data directory's file -------------------------------------------------

export interface Overlay {
  servers: Record<string, RemoteServerConfig>;
  /** Servers of the configuration file removed at run time. */
  removed: string[];
}

/** Reads remote-servers.json; a missing file is an empty overlay, a broken one a warning. */
export function readOverlay(path: string, warnings: string[]): Overlay {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warnings.push(`${path}: cannot read the servers saved at run time: ${(err as Error).message}`);
    return { servers: {}, removed: [] };
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (!isPlainObject(json)) throw new AppError('config', 'not a JSON object');
    const reader = new ConfigReader(() => path);
    const servers = json.Servers === undefined ? {} : readRemoteServers(reader, ['Servers'], json.Servers, dirname(path), warnings);
    const removed = json.Removed === undefined ? [] : reader.stringArray(['Removed'], json.Removed);
    return { servers, removed };
  } catch (err) {
    warnings.push(`${path}: the servers saved at run time are ignored: ${(err as Error).message}`);
    return { servers: {}, removed: [] };
  }
}

export async function writeOverlay(path: string, servers: Record<string, Record<string, unknown>>, removed: string[]): Promise<void> {
  const json = { Servers: servers, Removed: [...new Set(removed)].sort() };
  try {
    await writePrivateFile(path, `${JSON.stringify(json, null, 2)}\n`, dirname(path));
  } catch (err) {
    throw new AppError('internal', `cannot save the remote servers to '${path}': ${(err as Error).message}`);
  }
}
