// Session cookies and CSRF tokens, framework-free. A session id is 32 random bytes; the cookie carries it with an
// HMAC so forged cookies are refused without a Redis lookup; Redis stores the session under the id's SHA-256 (a
// Redis dump never holds a usable session token). The CSRF token is derived from the id with the same key, so it
// is never stored: a page gets it from GET /api/session and sends it back in X-CSRF-Token on every action.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Served over TLS the cookie is `__Host-` prefixed: browsers then only accept it Secure, from the console's own
 * host, on Path=/, without Domain, so no sibling host or plain-HTTP page can set or shadow it. Browsers refuse a
 * `__Host-` cookie without Secure, so plain-HTTP development (CONSOLE_COOKIE_SECURE=false) uses the plain name.
 */
export const SESSION_COOKIE = '__Host-payrail_console';
export const DEV_SESSION_COOKIE = 'payrail_console_session';
export const sessionCookieName = (secure: boolean): string => (secure ? SESSION_COOKIE : DEV_SESSION_COOKIE);
export const CSRF_HEADER = 'x-csrf-token';

const ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionTokens {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new RangeError('the session key needs at least 32 bytes');
  }

  /** A fresh session: its id and the cookie value that carries it. */
  issue(): { id: string; cookieValue: string } {
    const id = randomBytes(32).toString('base64url');
    return { id, cookieValue: `${id}.${this.mac('session', id)}` };
  }

  /** The session id a cookie value carries, when its signature is ours. */
  idFromCookie(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const [id, mac, extra] = value.split('.');
    if (extra !== undefined || !id || !mac || !ID.test(id)) return undefined;
    return equal(mac, this.mac('session', id)) ? id : undefined;
  }

  csrfToken(id: string): string {
    return this.mac('csrf', id);
  }

  csrfValid(id: string, presented: string | undefined): boolean {
    return presented !== undefined && equal(presented, this.csrfToken(id));
  }

  /** The name a session is stored under (never the id itself). */
  storageKey(id: string): string {
    return createHash('sha256').update(id).digest('hex');
  }

  private mac(purpose: string, id: string): string {
    return createHmac('sha256', this.key).update(`${purpose}:${id}`).digest('base64url');
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie in a Cookie header (the first, when a name repeats). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for the session: HttpOnly (no script reads it), SameSite=Strict (no cross-site request carries it). */
export function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return [`${sessionCookieName(secure)}=${value}`, 'Path=/', `Max-Age=${maxAgeS}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
