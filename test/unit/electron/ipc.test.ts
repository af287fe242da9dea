/**
 * The IPC registration of the AppApi contract. Electron's binary cannot be
 * installed here, so ipcMain is replaced by a minimal stand-in that records
 * handlers (the only mock in the suite, for that reason); the engine behind it
 * is real (store + server on port 0).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpcMain } from 'electron';
import { registerIpc } from '../../../main/ipc.js';
import { appApiMethods, channelOf } from '../../../preload/contract.js';
import { startTestEngine } from '../../support/engine.js';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

describe('registerIpc', () => {
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const handlers = new Map<string, Handler>();
  const ipcMain = { handle: (channel: string, handler: Handler) => void handlers.set(channel, handler) } as unknown as IpcMain;

  beforeAll(async () => {
    engine = await startTestEngine();
    registerIpc(ipcMain, engine);
  });
  afterAll(async () => engine?.close());

  it('registers one channel per contract method and nothing else', () => {
    expect([...handlers.keys()].sort()).toEqual(appApiMethods.map(channelOf).sort());
  });

  it('answers getServerInfo as result data with the engine URLs', async () => {
    const result = await handlers.get(channelOf('getServerInfo'))!({});
    expect(result).toEqual({
      ok: true,
      value: { url: engine.url, dicomWebUrl: engine.dicomWebUrl, storageDirectory: engine.store.storageDirectory },
    });
    const info = (result as { value: { dicomWebUrl: string } }).value;
    const res = await fetch(`${info.dicomWebUrl}/studies`);
    expect(res.status).toBe(200);
  });
});
