/**
 * A real engine for HTTP tests: temp directory for storage and index, free
 * port, everything else from the configuration defaults plus `overrides`
 * (Orthanc key names; DicomWeb keys not given keep their defaults). The directory is
 * removed on close.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../main/app.js';
import { configFromObject } from '../../main/config/loadConfig.js';
import { startEngine, type StartEngineOptions } from '../../main/startEngine.js';

export interface TestEngine extends Engine {
  /** The temp directory holding storage/ (removed on close). */
  dir: string;
  warnings: string[];
}

export async function startTestEngine(overrides: Record<string, unknown> = {}, options: StartEngineOptions = {}): Promise<TestEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'dicomweb-engine-'));
  try {
    const dicomWeb = overrides.DicomWeb as Record<string, unknown> | undefined;
    const raw = {
      Name: 'Test engine',
      HttpPort: 0,
      StorageDirectory: join(dir, 'storage'),
      ...overrides,
      ...(dicomWeb ? { DicomWeb: { ...dicomWeb } } : {}),
    };
    const { config, warnings } = configFromObject(raw, { source: 'test overrides', baseDir: dir });
    const engine = await startEngine(config, options);
    return {
      ...engine,
      dir,
      warnings,
      async close() {
        try {
          await engine.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
