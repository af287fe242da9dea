/**
 * The registry of remote DICOMweb servers (RemoteServers): DicomWeb.Servers
 * of the configuration, the servers saved at run time (serverFiles.ts) merged
 * over it, and the secrets given at run time (secrets.ts) filled in. put() and
 * remove() persist first and change the registry only once that succeeded,
 * one at a time. info() never carries a secret, only whether one is set.
 */
import { dirname, join } from 'node:path';
import type { Config, RemoteServerConfig } from '../config/types.js';
import { AppError } from '../errors.js';
import type { SecretBox } from './context.js';
import type { RemoteServerInfo, RemoteServers } from './types.js';
import { plainSecretBox, SecretsFile, type ServerSecrets } from './secrets.js';
import {
  choosePersistence,
  editConfigFileServer,
  entryOf,
  OVERLAY_FILE,
  readOverlay,
  writeOverlay,
  type InlineSecrets,
  type ServerPersistence,
} from './serverFiles.js';
import { redactUrl } from './httpClient.js';

export interface ServerRegistryOptions {
  config: Config;
  /** Where remote-servers.json and secrets.json live; default: the parent of StorageDirectory. */
  dataDirectory?: string;
  /** Seals secrets at rest; default plainSecretBox() (headless). */
  secretBox?: SecretBox;
}

export interface ServerRegistry extends RemoteServers {
  readonly persistence: ServerPersistence;
  readonly dataDirectory: string;
  /** Problems found while loading (unreadable files): the caller prints them. */
  readonly warnings: string[];
  /** Called with the server's name after each put/remove. Returns an unsubscribe function. */
  onChange(listener: (name: string) => void): () => void;
}

interface Entry {
  server: RemoteServerConfig;
  /** Secrets written in the configuration file by its user (they stay there). */
  inline: InlineSecrets;
}

const NOT_INLINE: InlineSecrets = { Password: false, CertificateKeyPassword: false };

export function createServerRegistry(options: ServerRegistryOptions): ServerRegistry {
  const { config } = options;
  const dataDirectory = options.dataDirectory ?? dirname(config.StorageDirectory);
  const box = options.secretBox ?? plainSecretBox();
  const persistence = choosePersistence(config.sourcePath, dataDirectory);
  const overlayPath = join(dataDirectory, OVERLAY_FILE);
  const secretsFile = new SecretsFile(dataDirectory, box);
  const warnings: string[] = [];
  const listeners = new Set<(name: string) => void>();

  // --- loading ---
  let entries = new Map<string, Entry>();
  for (const [name, server] of Object.entries(config.DicomWeb.Servers)) {
    entries.set(name, {
      server: { ...server },
      inline: { Password: server.Password !== undefined, CertificateKeyPassword: server.CertificateKeyPassword !== undefined },
    });
  }
  const overlay = readOverlay(overlayPath, warnings);
  const overlayServers: Record<string, Record<string, unknown>> = {};
  const removed = new Set(overlay.removed);
  for (const name of overlay.removed) entries.delete(name);
  for (const [name, server] of Object.entries(overlay.servers)) {
    entries.set(name, { server: { ...server }, inline: { ...NOT_INLINE } });
    overlayServers[name] = entryOf(server, NOT_INLINE);
  }
  for (const [name, secrets] of secretsFile.load(warnings)) {
    const entry = entries.get(name);
    if (!entry) continue;
    const s = entry.server;
    if (secrets.Password !== undefined && s.Password === undefined && (s.Username === undefined || s.Username === secrets.Username)) {
      if (secrets.Username !== undefined) s.Username = secrets.Username;
      s.Password = secrets.Password;
    }
    if (secrets.CertificateKeyPassword !== undefined && s.CertificateKeyPassword === undefined) s.CertificateKeyPassword = secrets.CertificateKeyPassword;
  }

  /** The secrets that live in secrets.json: every one not written in the configuration file. */
  const secretsOf = (map: Map<string, Entry>): Map<string, ServerSecrets> => {
    const out = new Map<string, ServerSecrets>();
    for (const [name, { server, inline }] of map) {
      const s: ServerSecrets = {};
      if (server.Password !== undefined && !inline.Password) {
        if (server.Username !== undefined) s.Username = server.Username;
        s.Password = server.Password;
      }
      if (server.CertificateKeyPassword !== undefined && !inline.CertificateKeyPassword) s.CertificateKeyPassword = server.CertificateKeyPassword;
      if (Object.keys(s).length > 0) out.set(name, s);
    }
    return out;
  };

  // --- persistence, one change at a time ---
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const persist = async (name: string, next: Map<string, Entry>): Promise<void> => {
    const before = secretsOf(entries);
    const after = secretsOf(next);
    const secretsChanged = JSON.stringify([...before]) !== JSON.stringify([...after]);
    if (secretsChanged) await secretsFile.save(after);
    try {
      const entry = next.get(name);
      const inConfig = Object.hasOwn(config.DicomWeb.Servers, name);
      let overlayChanged = false;
      if (persistence.kind === 'config-file') {
        await editConfigFileServer(persistence.path, name, entry ? entryOf(entry.server, entry.inline) : undefined);
        if (Object.hasOwn(overlayServers, name) || removed.has(name)) {
          delete overlayServers[name];
          removed.delete(name);
          overlayChanged = true;
        }
      } else {
        if (entry) {
          overlayServers[name] = entryOf(entry.server, NOT_INLINE);
          removed.delete(name);
        } else {
          delete overlayServers[name];
          if (inConfig) removed.add(name);
        }
        overlayChanged = true;
      }
      if (overlayChanged) await writeOverlay(overlayPath, overlayServers, [...removed]);
    } catch (err) {
      if (secretsChanged) await secretsFile.save(before).catch(() => undefined);
      throw err;
    }
  };

  const notify = (name: string) => {
    for (const listener of listeners) listener(name);
  };

  return {
    persistence,
    dataDirectory,
    warnings,

    names() {
      return [...entries.keys()].sort();
    },

    config(name) {
      const entry = entries.get(name);
      return entry ? structuredClone(entry.server) : undefined;
    },

    info(name) {
      const entry = entries.get(name);
      return entry ? infoOf(name, entry.server) : undefined;
    },

    put(name, server) {
      return serialised(async () => {
        if (name === '' || /[/\\]/.test(name)) throw new AppError('bad-request', `a server name must be non-empty and have no '/' or '\\' (found ${JSON.stringify(name)})`);
        const previous = entries.get(name);
        const next: RemoteServerConfig = structuredClone(server);
        if (!next.Url.endsWith('/')) next.Url += '/';
        const inline: InlineSecrets = { ...NOT_INLINE };
        const keepInline = persistence.kind === 'config-file';
        // A secret left undefined keeps the stored one, while what it goes with is still there.
        if (next.Username !== undefined && next.Password === undefined && previous?.server.Password !== undefined && previous.server.Username !== undefined) {
          next.Password = previous.server.Password;
          inline.Password = keepInline && previous.inline.Password;
        }
        if (next.Username === undefined) delete next.Password;
        if (next.CertificateKeyFile !== undefined && next.CertificateKeyPassword === undefined && previous?.server.CertificateKeyPassword !== undefined) {
          next.CertificateKeyPassword = previous.server.CertificateKeyPassword;
          inline.CertificateKeyPassword = keepInline && previous.inline.CertificateKeyPassword;
        }
        const map = new Map(entries);
        map.set(name, { server: next, inline });
        await persist(name, map);
        entries = map;
        secretsFile.forget(name);
        notify(name);
      });
    },

    remove(name) {
      return serialised(async () => {
        if (!entries.has(name)) return false;
        const map = new Map(entries);
        map.delete(name);
        await persist(name, map);
        entries = map;
        secretsFile.forget(name);
        notify(name);
        return true;
      });
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** What may be shown of a server. */
export function infoOf(name: string, server: RemoteServerConfig): RemoteServerInfo {
  const info: RemoteServerInfo = {
    Name: name,
    Url: redactUrl(server.Url),
    HasPassword: server.Password !== undefined && server.Password !== '',
    HttpHeaders: Object.keys(server.HttpHeaders ?? {}),
    HasCertificateKeyPassword: server.CertificateKeyPassword !== undefined && server.CertificateKeyPassword !== '',
    Pkcs11: server.Pkcs11 === true,
    HasDelete: server.HasDelete === true,
    // Opt-in, as the issue reads it: one streamed (chunked) STOW-RS request instead of batches.
    ChunkedTransfers: server.ChunkedTransfers === true,
  };
  if (server.Username !== undefined) info.Username = server.Username;
  if (server.CertificateFile !== undefined) info.CertificateFile = server.CertificateFile;
  if (server.CertificateKeyFile !== undefined) info.CertificateKeyFile = server.CertificateKeyFile;
  if (server.Timeout !== undefined) info.Timeout = server.Timeout;
  return info;
}
