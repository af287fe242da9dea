/**
 * Reads an Orthanc-style configuration: JSON with // and /* *\/ comments (as
 * Orthanc accepts), a file or, like Orthanc, a directory whose *.json files are
 * merged. Validates every key we use, with Orthanc 1.10's names and defaults;
 * keys Orthanc knows but we do not use are ignored with one note, unknown keys
 * give a warning. The file is never written.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import jsonc from 'jsonc-parser';
import { AppError } from '../errors.js';
import type { Config, DicomWebConfig } from './types.js';
import { defaultConfig } from './defaults.js';
import { type ConfigPath, ConfigReader, isPlainObject } from './configValues.js';
import { readRemoteServers } from './remoteServers.js';
import { DICOMWEB_IGNORED_KEYS, ORTHANC_IGNORED_KEYS } from './orthancKeys.js';

export { defaultConfig } from './defaults.js';

export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

/** Loads a configuration file (or a directory of *.json files, merged like Orthanc does). */
export function loadConfigFile(path: string): LoadedConfig {
  const absolute = resolve(path);
  let files: string[];
  try {
    files = statSync(absolute).isDirectory()
      ? readdirSync(absolute)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(absolute, f))
      : [absolute];
  } catch (err) {
    throw new AppError('config', `cannot read configuration '${absolute}': ${(err as Error).message}`);
  }
  if (files.length === 0) throw new AppError('config', `configuration directory '${absolute}' has no *.json file`);

  const merged: Record<string, unknown> = {};
  const owner = new Map<string, ParsedFile>();
  for (const file of files) {
    const parsed = parseJsonFile(file);
    for (const [key, value] of Object.entries(parsed.value)) {
      const previous = owner.get(key);
      if (previous) {
        throw new AppError('config', `${file}: key ${key} is already defined in ${previous.file}; a key may appear in one file only`);
      }
      owner.set(key, parsed);
      merged[key] = value;
    }
  }
  const where = (path: ConfigPath) => {
    const file = typeof path[0] === 'string' ? owner.get(path[0]) : undefined;
    return file ? locateInFile(file, path) : files.length === 1 ? files[0] : absolute;
  };
  const baseDir = files.length === 1 && files[0] === absolute ? dirname(absolute) : absolute;
  return buildConfig(merged, where, baseDir, absolute);
}

/**
 * Validates an already-parsed configuration object. `source` names it in
 * messages; relative paths are resolved against `baseDir` (default: cwd).
 */
export function configFromObject(raw: unknown, options: { source?: string; baseDir?: string } = {}): LoadedConfig {
  const source = options.source ?? 'configuration';
  if (!isPlainObject(raw)) {
    throw new AppError('config', `${source}: the configuration must be a JSON object, found ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  return buildConfig(raw, () => source, resolve(options.baseDir ?? '.'), options.source);
}

// --- parsing -----------------------------------------------------------------

interface ParsedFile {
  file: string;
  text: string;
  tree: jsonc.Node;
  value: Record<string, unknown>;
}

/** jsonc-parser error codes as "what was expected". */
const PARSE_ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: 'a JSON value (unexpected character)',
  InvalidNumberFormat: 'a valid number',
  PropertyNameExpected: 'a property name in double quotes',
  ValueExpected: 'a value',
  ColonExpected: "':' after the property name",
  CommaExpected: "',' between items",
  CloseBraceExpected: "'}'",
  CloseBracketExpected: "']'",
  EndOfFileExpected: 'the end of the file after the top-level object',
  InvalidCommentToken: 'a valid comment',
  UnexpectedEndOfComment: "'*/' closing the comment",
  UnexpectedEndOfString: 'a closing double quote',
  UnexpectedEndOfNumber: 'more digits',
  InvalidUnicode: 'a valid \\u escape',
  InvalidEscapeCharacter: 'a valid escape sequence',
  InvalidCharacter: 'no control character inside a string',
};

function parseJsonFile(file: string): ParsedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('config', `cannot read configuration file '${file}': ${(err as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const e = errors[0];
    const code = jsonc.printParseErrorCode(e.error);
    const found = e.offset >= text.length ? 'the end of the file' : JSON.stringify(text.slice(e.offset, e.offset + Math.max(1, Math.min(e.length, 20))));
    throw new AppError('config', `${file}:${lineColumn(text, e.offset)}: invalid JSON: expected ${PARSE_ERROR_TEXT[code] ?? code}, found ${found}`);
  }
  if (!tree || tree.type !== 'object') {
    throw new AppError('config', `${file}: the configuration must be a JSON object, found ${tree ? (tree.type === 'array' ? 'an array' : `a ${tree.type}`) : 'nothing'}`);
  }
  return { file, text, tree, value: jsonc.getNodeValue(tree) as Record<string, unknown> };
}

function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}

/** file:line:column of the deepest existing node on `path`. */
function locateInFile(parsed: ParsedFile, path: ConfigPath): string {
  for (let n = path.length; n > 0; n--) {
    const node = jsonc.findNodeAtLocation(parsed.tree, path.slice(0, n) as Array<string | number>);
    if (node) return `${parsed.file}:${lineColumn(parsed.text, node.offset)}`;
  }
  return parsed.file;
}

// --- validation --------------------------------------------------------------

const TOP_LEVEL_KEYS = new Set([
  'Name', 'HttpPort', 'RemoteAccessAllowed', 'RemoteAccessEnabled', 'AuthenticationEnabled',
  'RegisteredUsers', 'StorageDirectory', 'IndexDirectory', 'HttpCorsOrigins', 'DicomWeb',
  'HttpProxy', 'HttpTimeout', 'HttpsVerifyPeers', 'HttpsCACertificates',
]);
const DICOMWEB_KEYS = new Set([
  'Enable', 'Root', 'EnableWado', 'WadoRoot', 'Host', 'Ssl', 'StowMaxInstances', 'StowMaxSize', 'RetrieveParallelSeries', 'Servers',
]);
/** First path segments taken by the Orthanc REST routes; DICOMweb roots may not use them. */
const REST_SEGMENTS = new Set(['patients', 'studies', 'series', 'instances', 'system', 'statistics']);

function buildConfig(
  raw: Record<string, unknown>,
  where: (path: ConfigPath) => string,
  baseDir: string,
  sourcePath: string | undefined,
): LoadedConfig {
  const reader = new ConfigReader(where);
  const warnings: string[] = [];
  const ignored: string[] = [];
  const config = defaultConfig();
  config.sourcePath = sourcePath;

  for (const key of Object.keys(raw)) {
    if (TOP_LEVEL_KEYS.has(key)) continue;
    if (ORTHANC_IGNORED_KEYS.has(key)) ignored.push(key);
    else warnings.push(unknownKeyWarning(reader, [key], [...TOP_LEVEL_KEYS, ...ORTHANC_IGNORED_KEYS]));
  }

  if (raw.Name !== undefined) config.Name = reader.string(['Name'], raw.Name, { nonEmpty: true });
  if (raw.HttpPort !== undefined) config.HttpPort = reader.integer(['HttpPort'], raw.HttpPort, 0, 65535);

  if (raw.RemoteAccessAllowed !== undefined) {
    config.RemoteAccessAllowed = reader.boolean(['RemoteAccessAllowed'], raw.RemoteAccessAllowed);
    if (raw.RemoteAccessEnabled !== undefined) {
      reader.boolean(['RemoteAccessEnabled'], raw.RemoteAccessEnabled);
      warnings.push(`${where(['RemoteAccessEnabled'])}: RemoteAccessEnabled ignored: RemoteAccessAllowed is set too (RemoteAccessAllowed is the Orthanc name)`);
    }
  } else if (raw.RemoteAccessEnabled !== undefined) {
    config.RemoteAccessAllowed = reader.boolean(['RemoteAccessEnabled'], raw.RemoteAccessEnabled);
    warnings.push(`${where(['RemoteAccessEnabled'])}: RemoteAccessEnabled is read as RemoteAccessAllowed (the Orthanc name); please rename it`);
  }
  // Orthanc >= 1.5.8: when not set, authentication is enabled iff remote access is allowed.
  config.AuthenticationEnabled =
    raw.AuthenticationEnabled !== undefined
      ? reader.boolean(['AuthenticationEnabled'], raw.AuthenticationEnabled)
      : config.RemoteAccessAllowed;
  if (raw.RegisteredUsers !== undefined) {
    config.RegisteredUsers = reader.stringRecord(['RegisteredUsers'], raw.RegisteredUsers);
    for (const user of Object.keys(config.RegisteredUsers)) {
      if (user === '' || user.includes(':')) reader.error(['RegisteredUsers', user], "is not a valid user name (it must be non-empty and have no ':')");
    }
  }
  if (config.AuthenticationEnabled && Object.keys(config.RegisteredUsers).length === 0) {
    warnings.push(`${where(['AuthenticationEnabled'])}: authentication is enabled but RegisteredUsers is empty: every request will be refused (401)`);
  }
  if (config.RemoteAccessAllowed && !config.AuthenticationEnabled) {
    warnings.push(`${where(['RemoteAccessAllowed'])}: remote access is allowed without authentication: anyone on the network can read and change the store`);
  }

  if (raw.StorageDirectory !== undefined) {
    config.StorageDirectory = resolve(baseDir, reader.string(['StorageDirectory'], raw.StorageDirectory, { nonEmpty: true }));
  }
  config.IndexDirectory =
    raw.IndexDirectory !== undefined
      ? resolve(baseDir, reader.string(['IndexDirectory'], raw.IndexDirectory, { nonEmpty: true }))
      : config.StorageDirectory;

  if (raw.HttpCorsOrigins !== undefined) {
    config.HttpCorsOrigins = reader.stringArray(['HttpCorsOrigins'], raw.HttpCorsOrigins);
    config.HttpCorsOrigins.forEach((origin, i) => {
      if (!isOriginPattern(origin)) {
        reader.fail(['HttpCorsOrigins', i], "'*' or an origin like \"https://viewer.example.org\" or \"http://localhost:*\"", origin);
      }
    });
  }

  if (raw.DicomWeb !== undefined) config.DicomWeb = readDicomWeb(reader, raw.DicomWeb, config.DicomWeb, baseDir, warnings, ignored);

  if (raw.HttpProxy !== undefined) {
    const proxy = reader.string(['HttpProxy'], raw.HttpProxy);
    if (proxy !== '') config.HttpProxy = proxy;
  }
  if (raw.HttpTimeout !== undefined) config.HttpTimeout = reader.integer(['HttpTimeout'], raw.HttpTimeout, 0);
  if (raw.HttpsVerifyPeers !== undefined) config.HttpsVerifyPeers = reader.boolean(['HttpsVerifyPeers'], raw.HttpsVerifyPeers);
  if (raw.HttpsCACertificates !== undefined) {
    const ca = reader.string(['HttpsCACertificates'], raw.HttpsCACertificates);
    if (ca !== '') config.HttpsCACertificates = resolve(baseDir, ca);
  }

  if (ignored.length > 0) {
    warnings.push(`${sourcePath ?? 'configuration'}: Orthanc options not used by this workstation were ignored: ${ignored.join(', ')}`);
  }
  return { config, warnings };
}

function readDicomWeb(
  reader: ConfigReader,
  value: unknown,
  defaults: DicomWebConfig,
  baseDir: string,
  warnings: string[],
  ignored: string[],
): DicomWebConfig {
  const raw = reader.object(['DicomWeb'], value);
  const out: DicomWebConfig = { ...defaults, Servers: {} };
  for (const key of Object.keys(raw)) {
    if (DICOMWEB_KEYS.has(key)) continue;
    if (DICOMWEB_IGNORED_KEYS.has(key)) ignored.push(`DicomWeb.${key}`);
    else warnings.push(unknownKeyWarning(reader, ['DicomWeb', key], [...DICOMWEB_KEYS, ...DICOMWEB_IGNORED_KEYS]));
  }
  const p = (key: string) => ['DicomWeb', key];
  if (raw.Enable !== undefined) out.Enable = reader.boolean(p('Enable'), raw.Enable);
  if (raw.Root !== undefined) out.Root = normaliseRoot(reader, p('Root'), raw.Root);
  if (raw.EnableWado !== undefined) out.EnableWado = reader.boolean(p('EnableWado'), raw.EnableWado);
  if (raw.WadoRoot !== undefined) out.WadoRoot = normaliseRoot(reader, p('WadoRoot'), raw.WadoRoot).replace(/\/$/, '');
  if (raw.Host !== undefined) {
    const host = reader.string(p('Host'), raw.Host);
    if (host !== '' && !/^[A-Za-z0-9.\-_[\]:]+$/.test(host)) reader.fail(p('Host'), 'a host name with an optional port, e.g. "localhost:8042"', host);
    if (host !== '') out.Host = host;
  }
  if (raw.Ssl !== undefined) out.Ssl = reader.boolean(p('Ssl'), raw.Ssl);
  if (raw.StowMaxInstances !== undefined) out.StowMaxInstances = reader.integer(p('StowMaxInstances'), raw.StowMaxInstances, 0);
  if (raw.StowMaxSize !== undefined) out.StowMaxSize = reader.integer(p('StowMaxSize'), raw.StowMaxSize, 0);
  if (raw.RetrieveParallelSeries !== undefined) out.RetrieveParallelSeries = reader.integer(p('RetrieveParallelSeries'), raw.RetrieveParallelSeries, 1, 64);
  if (raw.Servers !== undefined) out.Servers = readRemoteServers(reader, p('Servers'), raw.Servers, baseDir, warnings);
  if (out.Enable && out.EnableWado && `${out.WadoRoot}/` === out.Root) {
    reader.error(p('WadoRoot'), `must differ from DicomWeb.Root (both are ${JSON.stringify(out.Root)})`);
  }
  return out;
}

/** "dicom-web" → "/dicom-web/"; refuses "/", odd characters and the REST API's paths. */
function normaliseRoot(reader: ConfigReader, path: ConfigPath, value: unknown): string {
  const text = reader.string(path, value).trim();
  const root = `/${text.replace(/^\/+|\/+$/g, '')}/`;
  const expected = 'a URL path such as "/dicom-web/" (letters, digits, - _ . ~ and /; not "/")';
  if (root === '//' || !/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/$/.test(root)) reader.fail(path, expected, value);
  if (root.split('/').some((segment) => segment === '.' || segment === '..')) reader.fail(path, expected, value);
  const first = root.split('/')[1];
  if (REST_SEGMENTS.has(first)) reader.error(path, `must not start with "/${first}", which the REST API uses (found ${JSON.stringify(text)})`);
  return root;
}

/** '*', or scheme://host[:port|:*]. */
function isOriginPattern(origin: string): boolean {
  return origin === '*' || /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:(\d{1,5}|\*))?$/.test(origin);
}

function unknownKeyWarning(reader: ConfigReader, path: ConfigPath, known: string[]): string {
  const key = String(path[path.length - 1]);
  const name = path.map(String).join('.');
  const match = known.find((k) => k.toLowerCase() === key.toLowerCase());
  const hint = match ? ` (did you mean ${match}? keys are case-sensitive)` : '';
  return `${reader.locate(path)}: unknown key ${name} ignored${hint}`;
}
