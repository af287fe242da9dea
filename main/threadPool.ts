/**
 * Imported first by the process entries (server.ts, index.ts): the store
 * writes and fsyncs a STOW batch's files concurrently, and libuv's default of
 * 4 threads would serialise them. Must run before the pool's first use.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';
