/**
 * DicomWeb.Servers: remote DICOMweb servers in every form Orthanc's DICOMweb
 * plugin accepts, normalised to RemoteServerConfig:
 *   "name": [ "http://host/dicom-web/" ]
 *   "name": [ "http://host/dicom-web/", "user", "password" ]
 *   "name": { "Url": …, "Username": …, "Password": …, "HttpHeaders": {…},
 *             "CertificateFile", "CertificateKeyFile", "CertificateKeyPassword",
 *             "Pkcs11", "Timeout", "HasDelete", "ChunkedTransfers" }
 * Like Orthanc, the URL is normalised to end with '/'.
 */
import { resolve } from 'node:path';
import type { RemoteServerConfig } from './types.js';
import { type ConfigPath, ConfigReader, isPlainObject } from './configValues.js';
import { REMOTE_SERVER_IGNORED_KEYS } from './orthancKeys.js';

const OBJECT_KEYS = new Set([
  'Url', 'Username', 'Password', 'HttpHeaders', 'CertificateFile', 'CertificateKeyFile',
  'CertificateKeyPassword', 'Pkcs11', 'Timeout', 'HasDelete', 'ChunkedTransfers',
]);

export function readRemoteServers(
  reader: ConfigReader,
  path: ConfigPath,
  value: unknown,
  baseDir: string,
  warnings: string[],
): Record<string, RemoteServerConfig> {
  const servers = reader.object(path, value);
  const out: Record<string, RemoteServerConfig> = {};
  for (const [name, entry] of Object.entries(servers)) {
    out[name] = readRemoteServer(reader, [...path, name], entry, baseDir, warnings);
  }
  return out;
}

function readRemoteServer(
  reader: ConfigReader,
  path: ConfigPath,
  entry: unknown,
  baseDir: string,
  warnings: string[],
): RemoteServerConfig {
  if (Array.isArray(entry)) {
    if (entry.length !== 1 && entry.length !== 3) {
      reader.fail(path, 'an array [url] or [url, username, password]', entry);
    }
    const server: RemoteServerConfig = { Url: readUrl(reader, [...path, 0], entry[0]) };
    if (entry.length === 3) {
      server.Username = reader.string([...path, 1], entry[1]);
      server.Password = reader.string([...path, 2], entry[2]);
    }
    return server;
  }
  if (!isPlainObject(entry)) {
    reader.fail(path, 'an array [url] or [url, username, password], or an object with "Url"', entry);
  }
  for (const key of Object.keys(entry)) {
    if (!OBJECT_KEYS.has(key) && !REMOTE_SERVER_IGNORED_KEYS.has(key)) {
      warnings.push(`${reader.locate([...path, key])}: unknown key ${[...path, key].join('.')} (ignored)`);
    }
  }
  if (entry.Url === undefined) reader.error(path, 'must have a "Url"');
  const server: RemoteServerConfig = { Url: readUrl(reader, [...path, 'Url'], entry.Url) };
  const p = (key: string) => [...path, key];
  if (entry.Username !== undefined) server.Username = reader.string(p('Username'), entry.Username);
  if (entry.Password !== undefined) server.Password = reader.string(p('Password'), entry.Password);
  if (server.Password !== undefined && server.Username === undefined) {
    reader.error(path, 'has a "Password" without a "Username"');
  }
  if (entry.HttpHeaders !== undefined) server.HttpHeaders = reader.stringRecord(p('HttpHeaders'), entry.HttpHeaders);
  if (entry.CertificateFile !== undefined) {
    server.CertificateFile = resolve(baseDir, reader.string(p('CertificateFile'), entry.CertificateFile, { nonEmpty: true }));
  }
  if (entry.CertificateKeyFile !== undefined) {
    server.CertificateKeyFile = resolve(baseDir, reader.string(p('CertificateKeyFile'), entry.CertificateKeyFile, { nonEmpty: true }));
  }
  if (entry.CertificateKeyPassword !== undefined) {
    server.CertificateKeyPassword = reader.string(p('CertificateKeyPassword'), entry.CertificateKeyPassword);
  }
  if (entry.Pkcs11 !== undefined) server.Pkcs11 = reader.boolean(p('Pkcs11'), entry.Pkcs11);
  if (entry.Timeout !== undefined) server.Timeout = reader.integer(p('Timeout'), entry.Timeout, 0);
  if (entry.HasDelete !== undefined) server.HasDelete = reader.boolean(p('HasDelete'), entry.HasDelete);
  if (entry.ChunkedTransfers !== undefined) server.ChunkedTransfers = reader.boolean(p('ChunkedTransfers'), entry.ChunkedTransfers);
  return server;
}

function readUrl(reader: ConfigReader, path: ConfigPath, value: unknown): string {
  const text = reader.string(path, value, { nonEmpty: true });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reader.fail(path, 'an http:// or https:// URL', value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') reader.fail(path, 'an http:// or https:// URL', value);
  return text.endsWith('/') ? text : `${text}/`;
}
