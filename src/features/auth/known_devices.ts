// "Known device" cookies (OWASP's device-cookie lockout): a successful sign-in gives the browser a token
// signed for that user. Attempts that present it are limited per device, not by the email and address
// limits, so strangers guessing an email's password cannot lock its owner out of a browser that signed
// in before. The token is HMAC-signed with the session secret: it cannot be forged or moved to another
// user, and it grants nothing by itself — the password is still checked.
import { createHmac } from 'node:crypto';
import { randomToken, safeEqual } from './tokens.ts';

export const DEVICE_COOKIE = 'device';
export const DEVICE_TTL_MS = 365 * 24 * 60 * 60 * 1000;

export interface KnownDevices {
  /** A new token for a browser in which `userId` just signed in. */
  issue(userId: number): string;
  /** The device id when `token` was issued to `userId`, else undefined. */
  deviceOf(token: string | undefined, userId: number): string | undefined;
}

export function createKnownDevices(secret: string): KnownDevices {
  const sign = (deviceId: string, userId: number) =>
    createHmac('sha256', secret).update(`device:${userId}:${deviceId}`).digest('base64url');
  return {
    issue(userId) {
      const deviceId = randomToken();
      return `${deviceId}.${sign(deviceId, userId)}`;
    },
    deviceOf(token, userId) {
      const [deviceId, signature, ...rest] = (token ?? '').split('.');
      if (!deviceId || !signature || rest.length > 0) return undefined;
      return safeEqual(signature, sign(deviceId, userId)) ? deviceId : undefined;
    },
  };
}
