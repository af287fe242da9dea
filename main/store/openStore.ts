/**
 * The local store: Part-10 files in a storage directory laid out like Orthanc's
 * and an SQLite index (index.sqlite in IndexDirectory, default the storage
 * directory). Opening recovers from an interrupted ingest or delete
 * (recovery.ts). Composition only: each job lives in its own module.
 * One process at a time may open a store (storeLock.ts).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StorageArea } from './files.js';
import { importPaths } from './importPaths.js';
import { IndexWriter } from './indexWriter.js';
import { IngestBatch, ingest } from './ingest.js';
import { InstanceQueries } from './instanceQueries.js';
import { OrthancResources } from './orthancResources.js';
import { recover } from './recovery.js';
import { openIndex } from './schema.js';
import { SearchIndex } from './searchIndex.js';
import { lockStore } from './storeLock.js';
import { DurableCommits } from './durableCommit.js';
import type { Store } from './types.js';
import './searchTypes.js';

export const INDEX_FILE_NAME = 'index.sqlite';

export interface OpenStoreOptions {
  storageDirectory: string;
  /** Folder of the index file; default: the storage directory. */
  indexDirectory?: string;
  /** Path of better-sqlite3's native addon when not the one in node_modules (Electron's ABI). */
  nativeBinding?: string;
}

export function openStore(options: OpenStoreOptions): Store {
  const storageDirectory = resolve(options.storageDirectory);
  const indexDirectory = resolve(options.indexDirectory ?? storageDirectory);
  mkdirSync(storageDirectory, { recursive: true });
  mkdirSync(indexDirectory, { recursive: true });

  const lock = lockStore(indexDirectory);
  let db: ReturnType<typeof openIndex>;
  const storage = new StorageArea(storageDirectory);
  try {
    db = openIndex(join(indexDirectory, INDEX_FILE_NAME), options.nativeBinding);
    try {
      recover(db, storage);
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    lock.release();
    throw err;
  }

  const writer = new IndexWriter(db);
  const commits = new DurableCommits(db, `${join(indexDirectory, INDEX_FILE_NAME)}-wal`);
  const instances = new InstanceQueries(db, storageDirectory);
  const resources = new OrthancResources(db, storage);
  const searchIndex = new SearchIndex(db);
  const store: Store = {
    storageDirectory,
    storeInstances: (files, opts) => ingest({ db, storage, writer, commits }, files, opts),
    beginBatch: (opts) => new IngestBatch({ db, storage, writer, commits }, opts),
    importPaths: (paths, opts) => importPaths((files) => store.storeInstances(files), paths, opts),
    findInstances: (selector) => instances.findInstances(selector),
    instanceFiles: (selector) => instances.instanceFiles(selector),
    instanceMetadata: (selector) => instances.instanceMetadata(selector),
    listResources: (level, opts) => resources.listResources(level, opts),
    getResource: (level, id) => resources.getResource(level, id),
    deleteResource: (level, id) => resources.deleteResource(level, id),
    getInstance: (id) => instances.getInstance(id),
    statistics: () => resources.statistics(),
    search: (query) => searchIndex.search(query),
    close: () => {
      commits.release();
      if (db.open) db.close();
      lock.release();
    },
  };
  return store;
}
