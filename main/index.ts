/**
 * Electron composition root (thin): starts the engine (store + embedded
 * DICOMweb server) in the main process and opens the window. Everything else
 * lives in plain Node modules that also run headless (main/server.ts).
 *
 * Config: `--config <file>` on the command line, else `config.json` in the
 * app's user-data folder when it exists, else the defaults (storage under the
 * user-data folder).
 */
import { app, BrowserWindow, dialog, ipcMain } from 'electron';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from './app.js';
import { startEngine } from './startEngine.js';
import { configFromObject, loadConfigFile } from './config/loadConfig.js';
import { registerIpc } from './ipc.js';
import { electronSecretBox } from './electronSecretBox.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');

/** In development, better-sqlite3 built for Electron's ABI (scripts/prepare-electron-native.mjs). */
function sqliteNativeBinding(): string | undefined {
  if (app.isPackaged) return undefined;
  const version = JSON.parse(readFileSync(join(projectRoot, 'node_modules/electron/package.json'), 'utf8')).version;
  const file = join(projectRoot, '.electron-native', version, 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}

function loadConfig() {
  const flag = process.argv.indexOf('--config');
  const explicit = flag > 0 ? process.argv[flag + 1] : undefined;
  const inUserData = join(app.getPath('userData'), 'config.json');
  if (explicit) return loadConfigFile(explicit);
  if (existsSync(inUserData)) return loadConfigFile(inUserData);
  return configFromObject({ StorageDirectory: join(app.getPath('userData'), 'storage') });
}

let engine: Engine | undefined;
let window: BrowserWindow | undefined;

async function main(): Promise<void> {
  // A second launch brings the running window forward instead of opening the
  // same store again (which the store's lock would refuse).
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  await app.whenReady();
  let started: Engine;
  try {
    const { config, warnings } = loadConfig();
    for (const w of warnings) console.warn(`config: ${w}`);
    started = await startEngine(config, {
      sqliteNativeBinding: sqliteNativeBinding(),
      secretBox: electronSecretBox(),
      dataDirectory: app.getPath('userData'),
    });
  } catch (err) {
    dialog.showErrorBox('DICOMweb Workstation cannot start', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  engine = started;
  registerIpc(ipcMain, started);
  window = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'DICOMweb Workstation',
    webPreferences: { preload: join(here, '..', 'preload', 'index.cjs'), contextIsolation: true, sandbox: true },
  });
  window.on('closed', () => (window = undefined));
  await window.loadFile(join(projectRoot, 'renderer', 'index.html'));
}

app.on('window-all-closed', () => app.quit());
app.on('will-quit', (event) => {
  if (!engine) return;
  event.preventDefault();
  const closing = engine;
  engine = undefined;
  void closing.close().finally(() => app.quit());
});

void main();
