/**
 * The engine: the local store, the embedded DICOMweb server over it, and the
 * client of remote DICOMweb servers (their registry, jobs to retrieve and send). Hosted
 * by the Electron main process (main/index.ts) or headless (main/server.ts).
 * Composition root: it only wires.
 */
import type { Config } from './config/types.js';
import type { Jobs } from './jobs/types.js';
import type { RemoteServers } from './remote/types.js';
import type { Store } from './store/types.js';

export interface Engine {
  config: Config;
  store: Store;
  /** Remote DICOMweb servers (DicomWeb.Servers plus those added at run time). */
  remotes: RemoteServers;
  /** Retrieve and stow jobs. */
  jobs: Jobs;
  /** http://{host}:{port} the server listens on (port resolved when HttpPort is 0). */
  url: string;
  /** Absolute DICOMweb root URL without trailing slash, e.g. http://127.0.0.1:8042/dicom-web */
  dicomWebUrl: string;
  close(): Promise<void>;
}

export { startEngine } from './startEngine.js';
