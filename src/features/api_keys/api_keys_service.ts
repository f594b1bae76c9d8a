// Creating, listing and deleting API keys. The full key leaves this module once, in create's result.
import type { ApiKeysRepository } from '../../db_sqlite/api_keys/api_keys_repository.ts';
import { notFound } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, isoAt } from '../auth/clock.ts';
import { sha256Hex } from '../auth/tokens.ts';
import { apiKeyPrefix, generateApiKey, generateApiKeyId } from './api_key_format.ts';
import type { ApiKey, CreatedApiKey } from './schemas.ts';

export interface ApiKeysService {
  create(name: string): CreatedApiKey;
  list(): ApiKey[];
  delete(id: string): void;
}

export function createApiKeysService(deps: {
  keys: ApiKeysRepository;
  clock: Clock;
  logger: Logger;
}): ApiKeysService {
  return {
    create(name) {
      const key = generateApiKey();
      const row = {
        id: generateApiKeyId(),
        name: name.trim(),
        key_prefix: apiKeyPrefix(key),
        created_at: isoAt(deps.clock),
      };
      deps.keys.insert({ ...row, key_hash: sha256Hex(key) });
      deps.logger.info({ keyId: row.id }, 'API key created');
      return { ...row, key };
    },
    list: () => deps.keys.list(),
    delete(id) {
      if (!deps.keys.delete(id)) throw notFound('API key not found');
      deps.logger.info({ keyId: id }, 'API key deleted');
    },
  };
}
