import { open, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { RemoteKeySource } from '../common/remote-api';
import { NODE_IO, writeFileAtomic } from './atomic-write';
import { serverRoots } from './openai-client';
import type { RemoteKeyProvider } from './remote-service';

/** Electron's `safeStorage`, as far as the key store uses it (a test passes its own). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/**
 * The desktop app's API keys, one per server root, encrypted with the system's keychain (Electron's
 * `safeStorage`) in one JSON file of the app's user data: `{root: base64 of the encrypted key}`. A
 * key is never written in clear, never sent to the page, and never part of a notebook. Where the
 * keychain is not available the key is refused (the environment's `NTL_API_KEY` still works).
 */
export class RemoteKeyStore implements RemoteKeyProvider {
  readonly canStore = true;

  constructor(
    private readonly file: string,
    private readonly safe: SafeStorageLike,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private async entries(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return {};
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
      return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return {};
    }
  }

  async key(root: string): Promise<{ key: string | undefined; source: RemoteKeySource }> {
    const stored = (await this.entries())[root];
    if (stored !== undefined && this.safe.isEncryptionAvailable()) {
      try {
        return { key: this.safe.decryptString(Buffer.from(stored, 'base64')), source: 'stored' };
      } catch {
        // A key encrypted under another login cannot be read: as if none were stored.
      }
    }
    const env = this.env['NTL_API_KEY'];
    return env ? { key: env, source: 'env' } : { key: undefined, source: 'none' };
  }

  /** Keeps `key` for the server of `baseUrl`, or forgets it when `key` is empty. */
  async set(baseUrl: string, key: string): Promise<RemoteKeySource> {
    const { root } = serverRoots(baseUrl);
    const entries = await this.entries();
    if (key === '') {
      delete entries[root];
    } else {
      if (!this.safe.isEncryptionAvailable()) throw new Error('the system keychain is not available, so the key cannot be stored encrypted: start the app with NTL_API_KEY set instead');
      entries[root] = this.safe.encryptString(key).toString('base64');
    }
    // Readable by this user only, on top of the encryption.
    await writeFileAtomic(dirname(this.file), basename(this.file), `${JSON.stringify(entries, null, 2)}\n`, { io: { ...NODE_IO, open: (path, flags) => open(path, flags, 0o600) } });
    return (await this.key(root)).source;
  }
}
