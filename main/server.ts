/**
 * Headless entry: `npm run server -- [config.json]` (compiled to
 * dist/main/server.js). Loads the configuration (or the defaults), prints its
 * warnings and the URLs it serves, runs until SIGINT/SIGTERM, then closes the
 * server and the store and exits 0. A configuration error prints the message
 * and exits 1; the file is never written.
 */
import { loadConfigFile, defaultConfig } from './config/loadConfig.js';
import type { Config } from './config/types.js';
import { startEngine } from './startEngine.js';

function load(path: string | undefined): { config: Config; warnings: string[] } {
  return path ? loadConfigFile(path) : { config: defaultConfig(), warnings: [] };
}

async function main(argv: string[]): Promise<void> {
  const args = argv.filter((a) => a !== '--');
  const verbose = args.includes('--verbose');
  const path = args.find((a) => !a.startsWith('--'));
  let loaded;
  try {
    loaded = load(path);
  } catch (err) {
    console.error(`configuration error: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const warning of loaded.warnings) console.warn(`warning: ${warning}`);
  const { config } = loaded;

  const engine = await startEngine(config, { log: (line) => console.log(line), logRequests: verbose });
  console.log(`${config.Name} serving ${config.StorageDirectory}`);
  console.log(`REST API:   ${engine.url}/`);
  if (config.DicomWeb.Enable) {
    console.log(`DICOMweb:   ${engine.dicomWebUrl}/`);
    if (config.DicomWeb.EnableWado) console.log(`WADO-URI:   ${engine.url}${config.DicomWeb.WadoRoot}`);
  }
  if (config.RemoteAccessAllowed) console.log(`(listening on every network interface, port ${new URL(engine.url).port})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing`);
    engine.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`error while closing: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`cannot start: ${(err as Error).message}`);
  process.exit(1);
});
