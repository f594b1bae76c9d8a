/** Emails are stored and compared lower-cased, so `Alice@X.com` and `alice@x.com` are one account. */
export const normalizeEmail = (email: string): string => email.toLowerCase();
