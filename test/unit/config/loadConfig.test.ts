import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { configFromObject, defaultConfig, loadConfigFile } from '../../../main/config/loadConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function writeConfig(text: string): string {
  const file = join(dir, `config-${++n}.json`);
  writeFileSync(file, text);
  return file;
}

/** The AppError thrown by `fn`, checked to be a config error. */
function configError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('config');
    return err as AppError;
  }
  throw new Error('expected a configuration error, nothing was thrown');
}

describe('defaults', () => {
  it('mirror Orthanc 1.10 for the shared keys and keep storage in the user data directory', () => {
    const c = defaultConfig();
    expect(c.HttpPort).toBe(8042);
    expect(c.RemoteAccessAllowed).toBe(false);
    expect(c.AuthenticationEnabled).toBe(false);
    expect(c.HttpTimeout).toBe(60);
    expect(c.HttpsVerifyPeers).toBe(true);
    expect(c.DicomWeb).toEqual({
      Enable: true, Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado', Ssl: false,
      StowMaxInstances: 10, StowMaxSize: 10, RetrieveParallelSeries: 4, Servers: {},
    });
    expect(c.IndexDirectory).toBe(c.StorageDirectory);
    const base = process.env.XDG_DATA_HOME?.startsWith('/') ? process.env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
    expect(c.StorageDirectory).toBe(join(base, 'dicomweb-workstation', 'storage'));
    expect(c.HttpCorsOrigins).toEqual(['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*']);
  });
});

describe('loadConfigFile', () => {
  it('reads JSON with line and block comments and trailing commas', () => {
    const file = writeConfig(`{
      // the name shown in /system
      "Name": "Reading room", /* inline */
      "HttpPort": 9000,
      /* multi
         line */
      "DicomWeb": { "Root": "dicomweb", "WadoRoot": "/wado-uri/", },
    }`);
    const { config, warnings } = loadConfigFile(file);
    expect(warnings).toEqual([]);
    expect(config.Name).toBe('Reading room');
    expect(config.HttpPort).toBe(9000);
    expect(config.DicomWeb.Root).toBe('/dicomweb/');
    expect(config.DicomWeb.WadoRoot).toBe('/wado-uri');
    expect(config.sourcePath).toBe(file);
  });

  it('resolves relative storage paths against the configuration file directory', () => {
    const sub = join(dir, 'nested');
    mkdirSync(sub, { recursive: true });
    const file = join(sub, 'orthanc.json');
    writeFileSync(file, '{ "StorageDirectory": "db", "IndexDirectory": "../index", "HttpsCACertificates": "ca.pem" }');
    const { config } = loadConfigFile(file);
    expect(config.StorageDirectory).toBe(join(sub, 'db'));
    expect(config.IndexDirectory).toBe(join(dir, 'index'));
    expect(config.HttpsCACertificates).toBe(join(sub, 'ca.pem'));
  });

  it('uses StorageDirectory as IndexDirectory when the latter is absent', () => {
    const { config } = loadConfigFile(writeConfig('{ "StorageDirectory": "/var/lib/ws" }'));
    expect(config.IndexDirectory).toBe('/var/lib/ws');
  });

  it('names file, line, column and what was expected on a JSON syntax error', () => {
    const file = writeConfig('{\n  "Name": "x"\n  "HttpPort": 1\n}');
    const err = configError(() => loadConfigFile(file));
    expect(err.message).toContain(`${file}:3:3`);
    expect(err.message).toContain("expected ',' between items");
    expect(err.message).toContain('"\\"HttpPort\\""');
  });

  it('reports an unterminated block comment', () => {
    const file = writeConfig('{ "Name": "x" /* never closed\n }');
    const err = configError(() => loadConfigFile(file));
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:15: invalid JSON: expected '\\*/'`));
  });

  it('refuses a file whose top level is not an object', () => {
    const err = configError(() => loadConfigFile(writeConfig('[1, 2]')));
    expect(err.message).toContain('must be a JSON object, found an array');
  });

  it('says which file cannot be read', () => {
    const missing = join(dir, 'missing.json');
    const err = configError(() => loadConfigFile(missing));
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
  });

  it('merges the *.json files of a directory like Orthanc, and refuses a key defined twice', () => {
    const confDir = join(dir, 'confdir');
    mkdirSync(confDir);
    writeFileSync(join(confDir, 'orthanc.json'), '{ "Name": "From dir", "StorageDirectory": "store" }');
    writeFileSync(join(confDir, 'dicomweb.json'), '{ "DicomWeb": { "Root": "/dw/" } }');
    writeFileSync(join(confDir, 'notes.txt'), 'not a config');
    const { config } = loadConfigFile(confDir);
    expect(config.Name).toBe('From dir');
    expect(config.DicomWeb.Root).toBe('/dw/');
    expect(config.StorageDirectory).toBe(join(confDir, 'store'));

    writeFileSync(join(confDir, 'zz.json'), '{ "Name": "again" }');
    const err = configError(() => loadConfigFile(confDir));
    expect(err.message).toContain('key Name is already defined in');
    expect(err.message).toContain(join(confDir, 'orthanc.json'));
  });

  it('leaves the file byte-identical after an error', () => {
    const text = '// keep me\n{ "HttpPort": "8042", /* exactly */ "Name": "x" }\n';
    const file = writeConfig(text);
    const before = readFileSync(file);
    configError(() => loadConfigFile(file));
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

describe('wrong values name the file, the key path, the expectation and what was found', () => {
  const cases: Array<[string, string, string, string]> = [
    ['{ "HttpPort": "8042" }', 'HttpPort', 'an integer from 0 to 65535', '"8042" (a string)'],
    ['{ "HttpPort": 70000 }', 'HttpPort', 'an integer from 0 to 65535', '70000 (a number)'],
    ['{ "RemoteAccessAllowed": "yes" }', 'RemoteAccessAllowed', 'true or false', '"yes" (a string)'],
    ['{ "AuthenticationEnabled": 1 }', 'AuthenticationEnabled', 'true or false', '1 (a number)'],
    ['{ "RegisteredUsers": { "alice": 42 } }', 'RegisteredUsers.alice', 'a string', '42 (a number)'],
    ['{ "RegisteredUsers": [] }', 'RegisteredUsers', 'an object', 'an array of 0 items'],
    ['{ "StorageDirectory": "" }', 'StorageDirectory', 'a non-empty string', '"" (a string)'],
    ['{ "HttpCorsOrigins": "http://x" }', 'HttpCorsOrigins', 'an array of strings', '"http://x" (a string)'],
    ['{ "HttpCorsOrigins": ["ftp://x"] }', 'HttpCorsOrigins[0]', "'*' or an origin", '"ftp://x" (a string)'],
    ['{ "HttpTimeout": -1 }', 'HttpTimeout', 'a non-negative integer', '-1 (a number)'],
    ['{ "HttpsVerifyPeers": null }', 'HttpsVerifyPeers', 'true or false', 'null'],
    ['{ "DicomWeb": true }', 'DicomWeb', 'an object', 'true (a boolean)'],
    ['{ "DicomWeb": { "StowMaxInstances": "10" } }', 'DicomWeb.StowMaxInstances', 'a non-negative integer', '"10" (a string)'],
    ['{ "DicomWeb": { "StowMaxSize": 1.5 } }', 'DicomWeb.StowMaxSize', 'a non-negative integer', '1.5 (a number)'],
    ['{ "DicomWeb": { "Enable": "true" } }', 'DicomWeb.Enable', 'true or false', '"true" (a string)'],
    ['{ "DicomWeb": { "Root": "/" } }', 'DicomWeb.Root', 'a URL path such as "/dicom-web/"', '"/" (a string)'],
    ['{ "DicomWeb": { "Root": "/a b/" } }', 'DicomWeb.Root', 'a URL path', '"/a b/" (a string)'],
    ['{ "DicomWeb": { "Root": "/x/../y" } }', 'DicomWeb.Root', 'a URL path', '"/x/../y" (a string)'],
    ['{ "DicomWeb": { "WadoRoot": 5 } }', 'DicomWeb.WadoRoot', 'a string', '5 (a number)'],
    ['{ "DicomWeb": { "Servers": { "pacs": "http://pacs/" } } }', 'DicomWeb.Servers.pacs', 'an array [url] or [url, username, password]', '"http://pacs/" (a string)'],
    ['{ "DicomWeb": { "Servers": { "pacs": ["http://pacs/", "user"] } } }', 'DicomWeb.Servers.pacs', 'an array [url] or [url, username, password]', 'an array of 2 items'],
    ['{ "DicomWeb": { "Servers": { "pacs": ["pacs.local"] } } }', 'DicomWeb.Servers.pacs[0]', 'an http:// or https:// URL', '"pacs.local" (a string)'],
    ['{ "DicomWeb": { "Servers": { "pacs": ["ftp://pacs/"] } } }', 'DicomWeb.Servers.pacs[0]', 'an http:// or https:// URL', '"ftp://pacs/" (a string)'],
    ['{ "DicomWeb": { "Servers": { "pacs": { "Url": "http://p/", "Timeout": "30" } } } }', 'DicomWeb.Servers.pacs.Timeout', 'a non-negative integer', '"30" (a string)'],
    ['{ "DicomWeb": { "Servers": { "pacs": { "Url": "http://p/", "HttpHeaders": { "X": 1 } } } } }', 'DicomWeb.Servers.pacs.HttpHeaders.X', 'a string', '1 (a number)'],
    ['{ "DicomWeb": { "Servers": { "pacs": { "Url": "http://p/", "HasDelete": "no" } } } }', 'DicomWeb.Servers.pacs.HasDelete', 'true or false', '"no" (a string)'],
  ];
  for (const [text, key, expected, found] of cases) {
    it(`${key}: ${text}`, () => {
      const file = writeConfig(text);
      const err = configError(() => loadConfigFile(file));
      expect(err.message).toContain(file);
      expect(err.message).toContain(`${key} must be ${expected}`);
      expect(err.message).toContain(`found ${found}`);
    });
  }

  it('locates the offending value by line and column', () => {
    const file = writeConfig('{\n  "DicomWeb": {\n    "StowMaxInstances": "ten"\n  }\n}');
    const err = configError(() => loadConfigFile(file));
    expect(err.message.startsWith(`${file}:3:25: DicomWeb.StowMaxInstances must be a non-negative integer`)).toBe(true);
  });

  it('refuses a server object without Url and a password without user, but takes a user without password as Orthanc does', () => {
    let err = configError(() => configFromObject({ DicomWeb: { Servers: { pacs: { Username: 'u', Password: 'p' } } } }, { source: 'x.json' }));
    expect(err.message).toBe('x.json: DicomWeb.Servers.pacs must have a "Url"');
    err = configError(() => configFromObject({ DicomWeb: { Servers: { pacs: { Url: 'http://p', Password: 'p' } } } }, { source: 'x.json' }));
    expect(err.message).toBe('x.json: DicomWeb.Servers.pacs has a "Password" without a "Username"');
    const { config } = configFromObject({ DicomWeb: { Servers: { pacs: { Url: 'http://p', Username: 'u' } } } }, { source: 'x.json' });
    expect(config.DicomWeb.Servers.pacs).toMatchObject({ Url: 'http://p/', Username: 'u' });
    expect(config.DicomWeb.Servers.pacs!.Password).toBeUndefined();
  });

  it('refuses DICOMweb roots that would take the REST API paths', () => {
    const err = configError(() => configFromObject({ DicomWeb: { Root: '/studies/' } }, { source: 'x.json' }));
    expect(err.message).toContain('DicomWeb.Root must not start with "/studies"');
    const err2 = configError(() => configFromObject({ DicomWeb: { Root: '/wado/', WadoRoot: '/wado' } }, { source: 'x.json' }));
    expect(err2.message).toContain('DicomWeb.WadoRoot must differ from DicomWeb.Root');
  });

  it('refuses a user name with a colon (HTTP Basic cannot carry it)', () => {
    const err = configError(() => configFromObject({ RegisteredUsers: { 'a:b': 'pw' } }, { source: 'x.json' }));
    expect(err.message).toContain('RegisteredUsers["a:b"] is not a valid user name');
  });
});

describe('DicomWeb.Servers in every form Orthanc accepts', () => {
  it('normalises [url], [url, user, password] and the object form', () => {
    const { config, warnings } = configFromObject(
      {
        DicomWeb: {
          Servers: {
            plain: ['http://plain.example/dicom-web'],
            withUser: ['https://user.example/dicom-web/', 'alice', 's3cret'],
            full: {
              Url: 'https://full.example/dw',
              Username: 'bob',
              Password: 'pw',
              HttpHeaders: { 'X-Token': 'abc' },
              CertificateFile: 'client.crt',
              CertificateKeyFile: '/abs/client.key',
              CertificateKeyPassword: 'kp',
              Pkcs11: false,
              Timeout: 30,
              HasDelete: true,
              ChunkedTransfers: false,
            },
          },
        },
      },
      { source: 'servers.json', baseDir: '/etc/ws' },
    );
    expect(warnings).toEqual([]);
    expect(config.DicomWeb.Servers).toEqual({
      plain: { Url: 'http://plain.example/dicom-web/' },
      withUser: { Url: 'https://user.example/dicom-web/', Username: 'alice', Password: 's3cret' },
      full: {
        Url: 'https://full.example/dw/',
        Username: 'bob',
        Password: 'pw',
        HttpHeaders: { 'X-Token': 'abc' },
        CertificateFile: '/etc/ws/client.crt',
        CertificateKeyFile: '/abs/client.key',
        CertificateKeyPassword: 'kp',
        Pkcs11: false,
        Timeout: 30,
        HasDelete: true,
        ChunkedTransfers: false,
      },
    });
  });

  it('warns about unknown keys of a server object', () => {
    const { warnings } = configFromObject({ DicomWeb: { Servers: { s: { Url: 'http://s/', Pasword: 'x' } } } }, { source: 'c.json' });
    expect(warnings).toEqual(['c.json: unknown key DicomWeb.Servers.s.Pasword (ignored)']);
  });
});

describe('keys', () => {
  it('warns about unknown keys, suggesting the right case', () => {
    const { warnings } = configFromObject({ httpPort: 1, Foo: true, DicomWeb: { root: '/x/' } }, { source: 'c.json' });
    expect(warnings).toEqual([
      'c.json: unknown key httpPort ignored (did you mean HttpPort? keys are case-sensitive)',
      'c.json: unknown key Foo ignored',
      'c.json: unknown key DicomWeb.root ignored (did you mean Root? keys are case-sensitive)',
    ]);
  });

  it('accepts the Orthanc keys it does not use with a single note', () => {
    const { config, warnings } = configFromObject(
      { DicomPort: 4242, DicomAet: 'ORTHANC', Plugins: ['/usr/share/orthanc/plugins'], DefaultEncoding: 'Latin1', DicomWeb: { QidoCaseSensitive: true } },
      { source: 'orthanc.json' },
    );
    expect(config.HttpPort).toBe(8042);
    expect(warnings).toEqual([
      'orthanc.json: Orthanc options not used by this workstation were ignored: DicomPort, DicomAet, Plugins, DefaultEncoding, DicomWeb.QidoCaseSensitive',
    ]);
  });

  it('reads the misspelt RemoteAccessEnabled as RemoteAccessAllowed, with a warning', () => {
    const { config, warnings } = configFromObject({ RemoteAccessEnabled: true, AuthenticationEnabled: true, RegisteredUsers: { a: 'b' } }, { source: 'c.json' });
    expect(config.RemoteAccessAllowed).toBe(true);
    expect(warnings).toEqual(['c.json: RemoteAccessEnabled is read as RemoteAccessAllowed (the Orthanc name); please rename it']);
  });

  it('prefers RemoteAccessAllowed when both spellings are given', () => {
    const { config, warnings } = configFromObject({ RemoteAccessAllowed: false, RemoteAccessEnabled: true }, { source: 'c.json' });
    expect(config.RemoteAccessAllowed).toBe(false);
    expect(warnings[0]).toContain('RemoteAccessEnabled ignored');
  });

  it('enables authentication by default when remote access is allowed, as Orthanc >= 1.5.8', () => {
    const { config, warnings } = configFromObject({ RemoteAccessAllowed: true, RegisteredUsers: { alice: 'pw' } });
    expect(config.AuthenticationEnabled).toBe(true);
    expect(warnings).toEqual([]);
    expect(configFromObject({ RemoteAccessAllowed: true, AuthenticationEnabled: false }).config.AuthenticationEnabled).toBe(false);
  });

  it('warns when nobody could log in or everybody could', () => {
    expect(configFromObject({ AuthenticationEnabled: true }, { source: 'c.json' }).warnings).toEqual([
      'c.json: authentication is enabled but RegisteredUsers is empty: every request will be refused (401)',
    ]);
    expect(configFromObject({ RemoteAccessAllowed: true, AuthenticationEnabled: false }, { source: 'c.json' }).warnings).toEqual([
      'c.json: remote access is allowed without authentication: anyone on the network can read and change the store',
    ]);
  });

  it('treats empty HttpProxy, HttpsCACertificates and DicomWeb.Host as unset, as Orthanc does', () => {
    const { config } = configFromObject({ HttpProxy: '', HttpsCACertificates: '', DicomWeb: { Host: '' } });
    expect(config.HttpProxy).toBeUndefined();
    expect(config.HttpsCACertificates).toBeUndefined();
    expect(config.DicomWeb.Host).toBeUndefined();
  });

  it('accepts HttpPort 0 (any free port) and CORS origin patterns', () => {
    const { config } = configFromObject({ HttpPort: 0, HttpCorsOrigins: ['*', 'https://viewer.example.org', 'http://10.0.0.5:*', 'http://[fe80::1]:3000'] });
    expect(config.HttpPort).toBe(0);
    expect(config.HttpCorsOrigins).toHaveLength(4);
  });

  it('refuses a configuration that is not an object', () => {
    expect(configError(() => configFromObject('x', { source: 's' })).message).toBe('s: the configuration must be a JSON object, found string');
  });
});
