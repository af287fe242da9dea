/**
 * Orthanc REST: what the server is and holds.
 *   GET /system      Orthanc 1.10's keys that mean something here (Version is the
 *                    Orthanc REST API version we mirror; ours is under Workstation)
 *   GET /statistics  counts and disk size, sizes as strings like Orthanc
 *   GET /plugins     ["dicom-web"] when DICOMweb is on, so clients probing for
 *                    Orthanc's DICOMweb plugin find it
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyRequest } from 'fastify';
import type { DicomWebContext } from '../dicomweb/context.js';

/** The Orthanc release whose REST answers we mirror. */
export const ORTHANC_VERSION = '1.10.1';
export const ORTHANC_API_VERSION = 16;
export const ORTHANC_DATABASE_VERSION = 6;

let ownVersion: string | undefined;

/** Our package version, from the nearest package.json above this module (source or dist layout). */
function workstationVersion(): string {
  if (ownVersion) return ownVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dicomweb-workstation' && pkg.version) return (ownVersion = pkg.version);
    }
    dir = dirname(dir);
  }
  return (ownVersion = 'unknown');
}

export async function systemInfo(_request: FastifyRequest, _reply: unknown, ctx: DicomWebContext) {
  const { config } = ctx;
  const dicomWeb = config.DicomWeb;
  return {
    ApiVersion: ORTHANC_API_VERSION,
    CheckRevisions: false,
    DatabaseBackendPlugin: null,
    DatabaseVersion: ORTHANC_DATABASE_VERSION,
    HttpPort: config.HttpPort,
    IsHttpServerSecure: !config.RemoteAccessAllowed || config.AuthenticationEnabled,
    Name: config.Name,
    PluginsEnabled: dicomWeb.Enable,
    StorageAreaPlugin: null,
    Version: ORTHANC_VERSION,
    DicomWebPlugin: dicomWeb.Enable
      ? { Root: dicomWeb.Root, EnableWado: dicomWeb.EnableWado, WadoRoot: dicomWeb.EnableWado ? dicomWeb.WadoRoot : null }
      : null,
    Workstation: { Name: 'dicomweb-workstation', Version: workstationVersion() },
  };
}

export async function statistics(_request: FastifyRequest, _reply: unknown, ctx: DicomWebContext) {
  const s = ctx.store.statistics();
  const mb = Math.floor(s.TotalDiskSize / (1024 * 1024));
  return {
    CountInstances: s.CountInstances,
    CountPatients: s.CountPatients,
    CountSeries: s.CountSeries,
    CountStudies: s.CountStudies,
    TotalDiskSize: String(s.TotalDiskSize),
    TotalDiskSizeMB: mb,
    // Files are stored as received: uncompressed size = disk size.
    TotalUncompressedSize: String(s.TotalDiskSize),
    TotalUncompressedSizeMB: mb,
  };
}

export async function listPlugins(_request: FastifyRequest, _reply: unknown, ctx: DicomWebContext) {
  return ctx.config.DicomWeb.Enable ? ['dicom-web'] : [];
}
