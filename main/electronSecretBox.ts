/**
 * Seals remote servers' secrets with Electron's safeStorage (the OS keychain:
 * Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux). Undefined
 * when the platform offers no real encryption (Linux 'basic_text' backend):
 * the engine then keeps secrets in a file readable by the user only.
 * Electron-only; imported by main/index.ts.
 */
import { safeStorage } from 'electron';
import type { SecretBox } from './remote/context.js';

export function electronSecretBox(): SecretBox | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return undefined;
  return {
    encrypted: true,
    seal: (plain) => safeStorage.encryptString(plain).toString('base64'),
    open: (sealed) => safeStorage.decryptString(Buffer.from(sealed, 'base64')),
  };
}
