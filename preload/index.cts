/**
 * Preload bridge (sandboxed): exposes `window.appApi` with exactly the methods
 * of the AppApi contract, each a typed `ipcRenderer.invoke` on its channel.
 * Sandboxed preloads cannot require local modules, so the method list is
 * repeated here and checked against the contract at compile time.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiResult, AppApi } from './contract.js';

const methods = ['getServerInfo'] as const satisfies ReadonlyArray<keyof AppApi>;
// Compile-time: every AppApi method is listed above.
type Missing = Exclude<keyof AppApi, (typeof methods)[number]>;
const allListed: Missing extends never ? true : never = true;
void allListed;

const bridge = Object.fromEntries(
  methods.map((name) => [
    name,
    async (...args: unknown[]) => {
      const result = (await ipcRenderer.invoke(`app:${name}`, ...args)) as ApiResult<unknown>;
      if (result.ok) return result.value;
      throw Object.assign(new Error(result.error.message), { kind: result.error.kind });
    },
  ]),
) as unknown as AppApi;

contextBridge.exposeInMainWorld('appApi', bridge);
