// Random secrets and their stored form. Secrets with 256 bits of entropy need no slow hash: SHA-256
// makes a leaked table useless without making each request pay for a password hash.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes as base64url (43 characters). */
export const randomToken = (): string => randomBytes(32).toString('base64url');

export const RANDOM_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Constant-time string comparison (length differences still return early, which reveals nothing useful). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
