/**
 * Registers the AppApi contract (preload/contract.ts) on Electron's ipcMain:
 * one handler per method, typed by the contract, answering Result data
 * ({ ok, value } | { ok: false, error: { kind, message } }) instead of throwing
 * across the process boundary.
 */
import type { IpcMain } from 'electron';
import type { AppApi, ApiResult } from '../preload/contract.js';
import { channelOf } from '../preload/contract.js';
import type { Engine } from './app.js';
import { asAppError } from './errors.js';

export function appApiOf(engine: Engine): AppApi {
  return {
    async getServerInfo() {
      return { url: engine.url, dicomWebUrl: engine.dicomWebUrl, storageDirectory: engine.store.storageDirectory };
    },
  };
}

export function registerIpc(ipcMain: IpcMain, engine: Engine): void {
  const api = appApiOf(engine);
  const register = <K extends keyof AppApi>(name: K, impl: AppApi[K]) => {
    ipcMain.handle(channelOf(name), async (_event, ...args: unknown[]): Promise<ApiResult<unknown>> => {
      try {
        return { ok: true, value: await (impl as (...a: unknown[]) => Promise<unknown>)(...args) };
      } catch (err) {
        const e = asAppError(err);
        return { ok: false, error: { kind: e.kind, message: e.message } };
      }
    });
  };
  register('getServerInfo', api.getServerInfo);
}
