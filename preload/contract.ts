/**
 * The one contract between the Electron main process and the renderer.
 * Types only plus the list of method names: imports neither `electron` nor
 * `node:*`, so main, preload and renderer can all import it.
 * Main registers each method once (main/ipc.ts); the preload exposes exactly
 * these names (preload/index.cts); the browser build can speak the same
 * interface over HTTP.
 */

export interface ServerInfo {
  /** REST root, e.g. http://127.0.0.1:8042 */
  url: string;
  /** DICOMweb root without trailing slash, e.g. http://127.0.0.1:8042/dicom-web */
  dicomWebUrl: string;
  storageDirectory: string;
}

/** Failure crossing IPC as data: the kind (see main/errors.ts) and a sentence. */
export interface ApiError {
  kind: string;
  message: string;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface AppApi {
  getServerInfo(): Promise<ServerInfo>;
}

export const appApiMethods = ['getServerInfo'] as const satisfies ReadonlyArray<keyof AppApi>;

/** IPC channel of a method: one prefix, the method name. */
export const channelOf = (method: keyof AppApi): string => `app:${method}`;
