/**
 * A store in a fresh temp directory for store tests, removed by `cleanup`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../main/store/openStore.js';
import type { Store } from '../../../main/store/types.js';

export interface TempStore {
  dir: string;
  store: Store;
  /** Closes and opens the store again (recovery runs). */
  reopen(): Store;
  cleanup(): void;
}

export function tempStore(prefix = 'store-test-'): TempStore {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const t: TempStore = {
    dir,
    store: openStore({ storageDirectory: join(dir, 'storage') }),
    reopen() {
      t.store.close();
      t.store = openStore({ storageDirectory: join(dir, 'storage') });
      return t.store;
    },
    cleanup() {
      t.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
