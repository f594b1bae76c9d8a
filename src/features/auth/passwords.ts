// Password hashing with argon2id (the library's defaults: 19 MiB, 2 passes — the OWASP baseline).
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

export const PASSWORD_MIN_LENGTH = 8;
// Long enough for any passphrase, short enough that hashing a request body cannot be used to burn CPU.
export const PASSWORD_MAX_LENGTH = 1024;

export const hashPassword = (password: string): Promise<string> => hash(password);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash is a failed check, not a crash
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same work as a real check, for sign-ins with an unknown email: the answer and its timing
 * then do not tell an attacker which emails have accounts.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hash(randomBytes(32).toString('hex'));
  await verifyPassword(await dummyHash, password);
  return false;
}
