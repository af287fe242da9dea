/**
 * Default configuration, with Orthanc 1.10's defaults for the keys we share
 * (Name aside) and the user's data directory for storage.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from './types.js';

/** Origins always allowed by CORS: pages served from this machine, any port. */
export const LOOPBACK_CORS_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'];

/** The per-user application data directory of this platform (XDG on Linux). */
export function userDataDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return env.APPDATA ?? join(homedir(), 'AppData', 'Roaming');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
}

export function defaultStorageDirectory(): string {
  return join(userDataDirectory(), 'dicomweb-workstation', 'storage');
}

export function defaultConfig(): Config {
  const storage = defaultStorageDirectory();
  return {
    Name: 'DICOMweb Workstation',
    HttpPort: 8042,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    RegisteredUsers: {},
    StorageDirectory: storage,
    IndexDirectory: storage,
    HttpCorsOrigins: [...LOOPBACK_CORS_ORIGINS],
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      EnableWado: true,
      WadoRoot: '/wado',
      Ssl: false,
      StowMaxInstances: 10,
      RetrieveParallelSeries: 4,
      StowMaxSize: 10,
      Servers: {},
    },
    HttpTimeout: 60,
    HttpsVerifyPeers: true,
  };
}
