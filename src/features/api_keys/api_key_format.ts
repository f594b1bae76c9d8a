// What an API key and its id look like, and how they are made: unbiased draws from a cryptographic source.
import { randomBytes } from 'node:crypto';

const KEY_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_ALPHABET = `${KEY_ALPHABET}_-`;
export const API_KEY_LENGTH = 64;
export const API_KEY_PREFIX_LENGTH = 8;
export const API_KEY_ID_LENGTH = 21;
export const API_KEY_PATTERN = /^[0-9A-Za-z]{64}$/;

/** `length` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias). */
export function randomString(alphabet: string, length: number): string {
  // Largest multiple of the alphabet size that fits in a byte; bytes at or above it are thrown away.
  const limit = 256 - (256 % alphabet.length);
  let result = '';
  while (result.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      result += alphabet[byte % alphabet.length];
      if (result.length === length) break;
    }
  }
  return result;
}

/** 64 characters from [0-9A-Za-z]: about 381 bits of entropy. */
export const generateApiKey = (): string => randomString(KEY_ALPHABET, API_KEY_LENGTH);

/** nanoid-style: 21 URL-safe characters. */
export const generateApiKeyId = (): string => randomString(ID_ALPHABET, API_KEY_ID_LENGTH);

export const apiKeyPrefix = (key: string): string => key.slice(0, API_KEY_PREFIX_LENGTH);
