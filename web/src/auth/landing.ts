// Where a user goes once signed in.
import { paths } from '../paths.ts';

/** Only same-site paths are followed after sign-in, never another origin. */
export function safeNext(next: string | null): string | null {
  return next?.startsWith('/') && !next.startsWith('//') ? next : null;
}

/**
 * Where the user was going, else the API keys page (with the setup guide) while the server has no
 * key to send spans with, else the services. `keyCount` is undefined when the keys could not be read.
 */
export function landingPath(next: string | null, keyCount: number | undefined): string {
  return safeNext(next) ?? (keyCount === 0 ? paths.apiKeys() : paths.services());
}
