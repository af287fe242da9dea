/** Imports `paths`, aborting once the first instance is stored; answers what importPaths threw (undefined if it finished). */
import type { Store } from '../../main/store/types.js';

export async function importCancelledAfterFirst(store: Store, paths: string[]): Promise<unknown> {
  const controller = new AbortController();
  return store
    .importPaths(paths, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stored > 0) controller.abort();
      },
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
}
