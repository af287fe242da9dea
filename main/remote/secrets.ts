/**
 * Secrets of remote servers given at run time (PUT {Root}servers/{name}, the
 * desktop screens): `<data dir>/secrets.json`, each value sealed with a
 * SecretBox (Electron safeStorage in the app). Headless mode has no platform
 * keychain: plainSecretBox() keeps values as they are, and the file is always
 * created with mode 0600 (readable by the user only). The file is written to
 * a temporary file and renamed, never edited in place.
 *
 *   { "Servers": { "pacs": { "Encrypted": true, "Username": "u", "Password": "<sealed>",
 *                            "CertificateKeyPassword": "<sealed>" } } }
 *
 * Username is not a secret; it is kept beside the Password it goes with (see
 * serverFiles.ts). Values that cannot be opened here (sealed by another
 * machine's keychain, or encrypted while this box is plain) are reported once
 * and written back unchanged, so they are not lost.
 */
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { SecretBox } from './context.js';

export interface ServerSecrets {
  Username?: string;
  Password?: string;
  CertificateKeyPassword?: string;
}

interface SealedEntry {
  /** Whether Password and CertificateKeyPassword were sealed by an encrypting box. */
  Encrypted?: boolean;
  Username?: string;
  Password?: string;
  CertificateKeyPassword?: string;
}

interface SecretsJson {
  Servers: Record<string, SealedEntry>;
}

/** No encryption available (headless): values kept as they are, in a 0600 file. */
export function plainSecretBox(): SecretBox {
  return { encrypted: false, seal: (plain) => plain, open: (sealed) => sealed };
}

export const SECRETS_FILE = 'secrets.json';

export class SecretsFile {
  readonly path: string;
  /** Entries that could not be opened with this box: written back as they were. */
  private unreadable = new Map<string, SealedEntry>();

  constructor(
    private readonly dataDirectory: string,
    private readonly box: SecretBox,
  ) {
    this.path = join(dataDirectory, SECRETS_FILE);
  }

  /** Reads and opens every entry; problems go to `warnings` (an unreadable file is not fatal: servers just lack their secrets). */
  load(warnings: string[]): Map<string, ServerSecrets> {
    const out = new Map<string, ServerSecrets>();
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warnings.push(`${this.path}: cannot read the stored server secrets: ${(err as Error).message}`);
      return out;
    }
    let json: SecretsJson;
    try {
      json = JSON.parse(text) as SecretsJson;
      if (typeof json !== 'object' || json === null || typeof json.Servers !== 'object' || json.Servers === null) throw new Error('no "Servers" object');
    } catch (err) {
      warnings.push(`${this.path}: the stored server secrets are not valid (${(err as Error).message}); servers configured at run time have no password until set again`);
      return out;
    }
    let lockedOut = false;
    for (const [name, entry] of Object.entries(json.Servers)) {
      if (typeof entry !== 'object' || entry === null) continue;
      const encrypted = entry.Encrypted === true;
      if (encrypted && !this.box.encrypted) {
        lockedOut = true;
        this.unreadable.set(name, entry);
        continue;
      }
      try {
        const secrets: ServerSecrets = {};
        if (typeof entry.Username === 'string') secrets.Username = entry.Username;
        // Values written by a plain box are plain text: readable by any box (and sealed at the next write).
        const openValue = (value: string) => (encrypted ? this.box.open(value) : value);
        if (typeof entry.Password === 'string') secrets.Password = openValue(entry.Password);
        if (typeof entry.CertificateKeyPassword === 'string') secrets.CertificateKeyPassword = openValue(entry.CertificateKeyPassword);
        out.set(name, secrets);
      } catch {
        this.unreadable.set(name, entry);
      }
    }
    if (this.unreadable.size > 0) {
      const names = [...this.unreadable.keys()].map((n) => `'${n}'`).join(', ');
      const why = lockedOut ? 'they were encrypted by the desktop app and this process has no key' : 'they cannot be decrypted with this machine\'s key';
      warnings.push(`${this.path}: the secrets of server(s) ${names} are kept but not used: ${why}; set them again to use them here`);
    }
    return out;
  }

  /** Forgets the unreadable entry of a server (its secrets were set again, or it was removed). */
  forget(name: string): void {
    this.unreadable.delete(name);
  }

  /** Writes every server's secrets (sealed), replacing the file atomically, mode 0600. */
  async save(secrets: Map<string, ServerSecrets>): Promise<void> {
    const servers: Record<string, SealedEntry> = {};
    for (const [name, entry] of this.unreadable) if (!secrets.has(name)) servers[name] = entry;
    for (const name of [...secrets.keys()].sort()) {
      const s = secrets.get(name)!;
      const sealed: SealedEntry = { Encrypted: this.box.encrypted };
      if (s.Username !== undefined) sealed.Username = s.Username;
      if (s.Password !== undefined) sealed.Password = this.box.seal(s.Password);
      if (s.CertificateKeyPassword !== undefined) sealed.CertificateKeyPassword = this.box.seal(s.CertificateKeyPassword);
      if (Object.keys(sealed).length > 1) servers[name] = sealed;
    }
    const json: SecretsJson = { Servers: servers };
    try {
      await writePrivateFile(this.path, `${JSON.stringify(json, null, 2)}\n`, this.dataDirectory);
    } catch (err) {
      throw new AppError('internal', `cannot save the server secrets to '${this.path}': ${(err as Error).message}`);
    }
  }
}

/** Writes `text` to `path` through a 0600 temporary file renamed into place (and fsynced). */
export async function writePrivateFile(path: string, text: string, directory: string): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(directory, { recursive: true });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}
