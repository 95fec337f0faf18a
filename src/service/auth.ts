import { createHash, randomBytes } from 'node:crypto';
import type { ServiceDb, User } from './db.js';

/**
 * API tokens: 32 random bytes, base64url (43 characters). The database keeps only their SHA-256,
 * so a copy of it lets nobody call the API; a token is shown once, when it is made.
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The token in an `Authorization: Bearer TOKEN` header, or undefined for anything else. Read
 * leniently (scheme in any case, any blanks around), as the rate limit keys on what this returns:
 * every spelling of one token is one token.
 */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m && TOKEN_PATTERN.test(m[1]!) ? m[1] : undefined;
}

/** The user a request's Authorization header names, or undefined (no header, bad form, unknown or revoked token). */
export function authenticate(db: ServiceDb, header: string | string[] | undefined): User | undefined {
  const token = bearerToken(header);
  return token === undefined ? undefined : db.userForTokenHash(hashToken(token));
}

/** Makes a user (or adds a token to one) and returns the token, the only time it exists in clear. */
export function createToken(db: ServiceDb, name: string, admin: boolean): { token: string; created: boolean } {
  const token = newToken();
  const { created } = db.addToken(name, admin, hashToken(token));
  return { token, created };
}
