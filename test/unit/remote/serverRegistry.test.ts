import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfigFile } from '../../../main/config/loadConfig.js';
import type { Config } from '../../../main/config/types.js';
import type { SecretBox } from '../../../main/remote/context.js';
import { createServerRegistry } from '../../../main/remote/serverRegistry.js';

/** A real encrypting box (AES-256-GCM), standing in for Electron's safeStorage. */
function aesBox(key = randomBytes(32)): SecretBox {
  return {
    encrypted: true,
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
    },
    open(sealed) {
      const raw = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

const CONFIG_TEXT = `{
  // hand-written configuration: every byte outside the edited entry must survive
  "Name": "Reading room 3",
  "StorageDirectory": "./storage",
  "DicomWeb": {
    /* remote archives */
    "Servers": {
      "plain": [ "http://127.0.0.1:9/dicom-web/" ],            // no password
      "triple": [ "http://127.0.0.1:9/dicom-web/", "alice", "from-the-file" ],
      "object": {
        "Url": "https://pacs.example.org/dicom-web",
        "HttpHeaders": { "X-Api-Key": "header-token" },
        "Timeout": 7,
        "HasDelete": true
      }
    }
  }
}
`;

let dir: string;
let configPath: string;
const load = (): Config => loadConfigFile(configPath).config;
const text = () => readFileSync(configPath, 'utf8');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'registry-'));
  configPath = join(dir, 'config.json');
  writeFileSync(configPath, CONFIG_TEXT);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the remote server registry', () => {
  it('reads every form of DicomWeb.Servers and shows no secret, only whether one is set', () => {
    const registry = createServerRegistry({ config: load() });
    expect(registry.names()).toEqual(['object', 'plain', 'triple']);
    expect(registry.config('triple')).toMatchObject({ Url: 'http://127.0.0.1:9/dicom-web/', Username: 'alice', Password: 'from-the-file' });
    expect(registry.info('triple')).toEqual({
      Name: 'triple', Url: 'http://127.0.0.1:9/dicom-web/', Username: 'alice', HasPassword: true, HttpHeaders: [],
      HasCertificateKeyPassword: false, Pkcs11: false, HasDelete: false, ChunkedTransfers: false,
    });
    expect(registry.info('object')).toMatchObject({ Url: 'https://pacs.example.org/dicom-web/', HttpHeaders: ['X-Api-Key'], Timeout: 7, HasDelete: true, HasPassword: false });
    expect(JSON.stringify(registry.info('object'))).not.toContain('header-token');
    expect(registry.info('nope')).toBeUndefined();
    expect(registry.persistence).toEqual({ kind: 'config-file', path: configPath });
  });

  it('a server added at run time goes into the config file, comments and the other entries kept byte for byte; its password goes to secrets.json, sealed', async () => {
    const box = aesBox();
    const registry = createServerRegistry({ config: load(), secretBox: box });
    await registry.put('added', { Url: 'http://127.0.0.1:9/other', Username: 'bob', Password: 'run-time-secret', CertificateFile: '/c.pem', CertificateKeyFile: '/k.pem', CertificateKeyPassword: 'key-secret' });

    const after = text();
    const entry = `,\n      "added": {\n        "Url": "http://127.0.0.1:9/other/",\n        "Username": "bob",\n        "CertificateFile": "/c.pem",\n        "CertificateKeyFile": "/k.pem"\n      }`;
    expect(after).toBe(CONFIG_TEXT.replace(/("HasDelete": true\n      \})/, `$1${entry}`));
    expect(after).not.toContain('run-time-secret');
    expect(after).not.toContain('key-secret');

    const secretsPath = join(dir, 'secrets.json');
    const secrets = readFileSync(secretsPath, 'utf8');
    expect(secrets).not.toContain('run-time-secret');
    expect(secrets).not.toContain('key-secret');
    expect(statSync(secretsPath).mode & 0o777).toBe(0o600);

    // After a restart: the same server, its secrets opened again.
    const again = createServerRegistry({ config: load(), secretBox: box });
    expect(again.config('added')).toMatchObject({ Username: 'bob', Password: 'run-time-secret', CertificateKeyPassword: 'key-secret' });
    expect(again.info('added')).toMatchObject({ Username: 'bob', HasPassword: true, HasCertificateKeyPassword: true });
    expect(again.warnings).toEqual([]);
  });

  it('a password that came from the config file stays there when the server is changed without giving one', async () => {
    const registry = createServerRegistry({ config: load() });
    await registry.put('triple', { Url: 'http://127.0.0.1:9/dicom-web/', Username: 'alice', Timeout: 3 });
    expect(registry.config('triple')).toMatchObject({ Username: 'alice', Password: 'from-the-file', Timeout: 3 });
    expect(load().DicomWeb.Servers.triple).toMatchObject({ Username: 'alice', Password: 'from-the-file', Timeout: 3 });
    expect(existsSync(join(dir, 'secrets.json'))).toBe(false);
  });

  it('a new password given at run time leaves the config file and goes to secrets.json', async () => {
    const registry = createServerRegistry({ config: load() });
    await registry.put('triple', { Url: 'http://127.0.0.1:9/dicom-web/', Username: 'alice', Password: 'new-one' });
    expect(text()).not.toContain('from-the-file');
    expect(text()).not.toContain('new-one');
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).Servers.triple).toEqual({ Encrypted: false, Username: 'alice', Password: 'new-one' });
    expect(createServerRegistry({ config: load() }).config('triple')).toMatchObject({ Username: 'alice', Password: 'new-one' });
  });

  it('removing a server removes its entry, its trailing comment and its secrets', async () => {
    const registry = createServerRegistry({ config: load() });
    await registry.put('object', { Url: 'http://x/', Username: 'u', Password: 'p' });
    expect(await registry.remove('plain')).toBe(true);
    expect(await registry.remove('object')).toBe(true);
    expect(await registry.remove('nope')).toBe(false);
    expect(text()).not.toContain('no password');
    expect(text()).toContain('// hand-written configuration');
    expect(text()).toContain('/* remote archives */');
    expect(Object.keys(load().DicomWeb.Servers)).toEqual(['triple']);
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).Servers).toEqual({});
  });

  it('a read-only config file is never written: changes go to the data directory and are merged at start', async () => {
    chmodSync(configPath, 0o444);
    const registry = createServerRegistry({ config: load() });
    expect(registry.persistence).toEqual({ kind: 'data-directory', path: join(dir, 'remote-servers.json') });
    await registry.put('added', { Url: 'http://127.0.0.1:9/a/', Username: 'bob', Password: 'pw' });
    await registry.put('triple', { Url: 'http://127.0.0.1:9/changed/', Username: 'alice' });
    await registry.remove('plain');
    expect(text()).toBe(CONFIG_TEXT);

    const overlay = readFileSync(join(dir, 'remote-servers.json'), 'utf8');
    expect(overlay).not.toContain('pw');
    expect(overlay).not.toContain('from-the-file');
    expect(JSON.parse(overlay).Removed).toEqual(['plain']);

    const again = createServerRegistry({ config: load() });
    expect(again.names()).toEqual(['added', 'object', 'triple']);
    expect(again.config('added')).toMatchObject({ Username: 'bob', Password: 'pw' });
    // The file's own password was kept (in secrets.json, not copied in clear to another file).
    expect(again.config('triple')).toMatchObject({ Url: 'http://127.0.0.1:9/changed/', Username: 'alice', Password: 'from-the-file' });
  });

  it('a configuration directory, or no configuration file at all, persists to the data directory', async () => {
    const confDir = join(dir, 'conf.d');
    mkdirSync(confDir);
    writeFileSync(join(confDir, 'a.json'), '{ "StorageDirectory": "../storage" }');
    const fromDir = createServerRegistry({ config: loadConfigFile(confDir).config });
    expect(fromDir.persistence.kind).toBe('data-directory');
    expect(fromDir.dataDirectory).toBe(dir);

    const defaults = { ...defaultConfig(), StorageDirectory: join(dir, 'data', 'storage') };
    const none = createServerRegistry({ config: defaults });
    expect(none.persistence).toEqual({ kind: 'data-directory', path: join(dir, 'data', 'remote-servers.json') });
    await none.put('x', { Url: 'http://127.0.0.1:9/' });
    expect(createServerRegistry({ config: defaults }).names()).toEqual(['x']);
  });

  it('the config file broken since start is left as it is, and the registry unchanged', async () => {
    const registry = createServerRegistry({ config: load() });
    writeFileSync(configPath, '{ "Name": ');
    await expect(registry.put('added', { Url: 'http://127.0.0.1:9/' })).rejects.toThrow(/cannot save server 'added' to '.*config\.json': the file is no longer a valid configuration/);
    expect(text()).toBe('{ "Name": ');
    expect(registry.names()).toEqual(['object', 'plain', 'triple']);
  });

  it('secrets sealed by another key are reported, not used, and kept when the file is rewritten', async () => {
    const first = createServerRegistry({ config: load(), secretBox: aesBox() });
    await first.put('sealed', { Url: 'http://127.0.0.1:9/', Username: 'u', Password: 'only-the-first-key-opens-this' });
    const sealedBefore = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).Servers.sealed;

    const other = createServerRegistry({ config: load(), secretBox: aesBox() });
    expect(other.warnings.join('\n')).toMatch(/secrets of server\(s\) 'sealed' are kept but not used/);
    expect(other.info('sealed')).toMatchObject({ HasPassword: false });
    await other.put('another', { Url: 'http://127.0.0.1:9/', Username: 'v', Password: 'w' });
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).Servers.sealed).toEqual(sealedBefore);

    // Headless (plain box) cannot open what the app encrypted either.
    const headless = createServerRegistry({ config: load() });
    expect(headless.warnings.join('\n')).toMatch(/encrypted by the desktop app/);
  });

  it('changes are made one at a time, in the order asked', async () => {
    const registry = createServerRegistry({ config: load() });
    await Promise.all(Array.from({ length: 8 }, (_, i) => registry.put(`s${i}`, { Url: `http://127.0.0.1:9/${i}/` })));
    expect(Object.keys(load().DicomWeb.Servers)).toEqual(['plain', 'triple', 'object', 's0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
  });
});
