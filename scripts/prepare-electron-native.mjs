#!/usr/bin/env node
// Builds better-sqlite3's native addon for Electron's ABI into .electron-native/<electron version>/,
// leaving node_modules/better-sqlite3 built for plain Node (tests and the headless server use that one).
// The Electron main process opens the database with `nativeBinding` pointing here (see main/index.ts).
// Packaged apps do not need this: electron-builder rebuilds native modules for Electron when packaging.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version;
const outDir = join(root, '.electron-native', electronVersion);
const target = join(outDir, 'better_sqlite3.node');
if (existsSync(target)) process.exit(0);

const src = join(root, 'node_modules/better-sqlite3');
const work = join(root, '.electron-native', 'build-better-sqlite3');
rmSync(work, { recursive: true, force: true });
cpSync(src, work, { recursive: true, filter: (p) => !p.startsWith(join(src, 'build')) });
const bin = (name) => join(root, 'node_modules/.bin', name);
console.log(`Building better-sqlite3 for Electron ${electronVersion} (once)…`);
try {
  execFileSync(bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion], { cwd: work, stdio: 'inherit' });
} catch {
  execFileSync(
    bin('node-gyp'),
    ['rebuild', '--release', '--runtime=electron', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'],
    { cwd: work, stdio: 'inherit' },
  );
}
mkdirSync(outDir, { recursive: true });
cpSync(join(work, 'build/Release/better_sqlite3.node'), target);
rmSync(work, { recursive: true, force: true });
console.log(`Electron build of better-sqlite3: ${target}`);
