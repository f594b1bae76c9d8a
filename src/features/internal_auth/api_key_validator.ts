// The API-key check ingestion runs on every export. One interface, two implementations: this local one
// reads SQLite directly (single process); the gRPC one asks the backend (split mode).
import type { ApiKeysRepository } from '../../db_sqlite/api_keys/api_keys_repository.ts';
import { API_KEY_PATTERN } from '../api_keys/api_key_format.ts';
import { sha256Hex } from '../auth/tokens.ts';

export type ApiKeyValidation = { valid: true; keyId: string } | { valid: false };

export interface ApiKeyValidator {
  validate(key: string): Promise<ApiKeyValidation>;
}

/**
 * No cache: the lookup is one indexed SELECT on the key's hash (a few microseconds), so a deleted key
 * is refused by the very next request.
 */
export class LocalApiKeyValidator implements ApiKeyValidator {
  readonly #keys: ApiKeysRepository;

  constructor(keys: ApiKeysRepository) {
    this.#keys = keys;
  }

  async validate(key: string): Promise<ApiKeyValidation> {
    if (!API_KEY_PATTERN.test(key)) return { valid: false };
    const keyId = this.#keys.findIdByHash(sha256Hex(key));
    return keyId === undefined ? { valid: false } : { valid: true, keyId };
  }
}
