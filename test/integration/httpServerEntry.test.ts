/**
 * The headless entry (main/server.ts) as a real process: `node --import tsx
 * main/server.ts config.json` (tsx runs the TypeScript sources directly, which
 * keeps this test to a second or two; `npm run server` runs the compiled
 * dist/main/server.js, same code).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'server-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'main/server.ts'), ...args], {
    cwd: root, // so that --import finds tsx in node_modules
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_DATA_HOME: join(dir, 'xdg') },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(running.stdout());
    if (match) return match;
    if (running.child.exitCode !== null || Date.now() > deadline) {
      running.child.kill('SIGKILL');
      throw new Error(`no ${pattern} in output.\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('headless server entry', () => {
  it('loads the configuration, prints warnings and URLs, serves, and exits 0 on SIGTERM', async () => {
    const config = join(dir, 'server.json');
    const line2 = '{ "Name": "Headless", "HttpPort": 0, "StorageDirectory": "store", "Foo": 1, "DicomAet": "X" }';
    writeFileSync(config, `// test\n${line2}`);
    const server = run([config]);
    const [, url] = await waitFor(server, /REST API:\s+(http:\/\/127\.0\.0\.1:\d+)\//);
    await waitFor(server, /WADO-URI:\s+http:\/\/127\.0\.0\.1:\d+\/wado\n/);
    expect(server.stdout()).toContain(`DICOMweb:   ${url}/dicom-web/`);
    expect(server.stderr()).toContain(`warning: ${config}:2:${line2.indexOf('"Foo": 1') + 8}: unknown key Foo ignored`);
    expect(server.stderr()).toContain('Orthanc options not used by this workstation were ignored: DicomAet');

    const system = (await (await fetch(`${url}/system`)).json()) as { Name: string };
    expect(system.Name).toBe('Headless');
    expect((await fetch(`${url}/statistics`)).status).toBe(200);

    server.child.kill('SIGTERM');
    expect(await server.exit).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain('SIGTERM: closing');
    await expect(fetch(`${url}/system`)).rejects.toThrow();
  });

  it('exits 0 on SIGINT too, and starts with the defaults when no file is given', async () => {
    const server = run([]);
    // Defaults: port 8042 may be taken on this machine; either it serves, or it says why it cannot.
    const started = await Promise.race([
      waitFor(server, /REST API:\s+(http:\/\/127\.0\.0\.1:8042)\//).then(() => true),
      server.exit.then(() => false),
    ]);
    if (started) {
      expect(server.stdout()).toContain(join(dir, 'xdg', 'dicomweb-workstation', 'storage'));
      server.child.kill('SIGINT');
      expect(await server.exit).toEqual({ code: 0, signal: null });
    } else {
      expect(server.stderr()).toContain('HttpPort 8042 is already in use');
      expect((await server.exit).code).toBe(1);
    }
  });

  it('prints a configuration error and exits 1, leaving the file untouched', async () => {
    const config = join(dir, 'broken.json');
    const text = '{\n  "DicomWeb": { "StowMaxInstances": "many" }\n}\n';
    writeFileSync(config, text);
    const server = run([config]);
    const { code } = await server.exit;
    expect(code).toBe(1);
    expect(server.stderr()).toContain(`configuration error: ${config}:2:${text.split('\n')[1].indexOf('"many"') + 1}: DicomWeb.StowMaxInstances must be a non-negative integer, found "many" (a string)`);
    expect(readFileSync(config, 'utf8')).toBe(text);
  });
});
