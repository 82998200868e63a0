import { randomBytes } from 'node:crypto';
import { DEV_SESSION_COOKIE, SESSION_COOKIE, SessionTokens, clearedSessionCookie, readCookie, sessionCookie } from './session-tokens';

const tokens = new SessionTokens(randomBytes(32));

describe('session tokens', () => {
  it('issues cookies that carry their session id and are accepted back', () => {
    const { id, cookieValue } = tokens.issue();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.idFromCookie(cookieValue)).toBe(id);
    expect(tokens.issue().id).not.toBe(id);
  });

  it('refuses a cookie whose signature is not ours, is altered, or is malformed', () => {
    const { id, cookieValue } = tokens.issue();
    const other = new SessionTokens(randomBytes(32)).issue().cookieValue;
    expect(tokens.idFromCookie(other)).toBeUndefined();
    expect(tokens.idFromCookie(`${id}.${'A'.repeat(43)}`)).toBeUndefined();
    expect(tokens.idFromCookie(`${id.slice(0, -1)}x.${cookieValue.split('.')[1]}`)).toBeUndefined();
    expect(tokens.idFromCookie(id)).toBeUndefined();
    expect(tokens.idFromCookie(`${cookieValue}.extra`)).toBeUndefined();
    expect(tokens.idFromCookie(undefined)).toBeUndefined();
  });

  it('derives one CSRF token per session that no other session accepts', () => {
    const a = tokens.issue().id;
    const b = tokens.issue().id;
    expect(tokens.csrfValid(a, tokens.csrfToken(a))).toBe(true);
    expect(tokens.csrfValid(a, tokens.csrfToken(b))).toBe(false);
    expect(tokens.csrfValid(a, undefined)).toBe(false);
    expect(tokens.csrfValid(a, '')).toBe(false);
  });

  it('stores sessions under a hash, never under the id the cookie carries', () => {
    const { id } = tokens.issue();
    expect(tokens.storageKey(id)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens.storageKey(id)).not.toContain(id);
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => new SessionTokens(randomBytes(16))).toThrow(RangeError);
  });
});

describe('cookies', () => {
  it('sets the session cookie __Host- prefixed, Secure, HttpOnly and SameSite=Strict, and clears it', () => {
    expect(SESSION_COOKIE).toBe('__Host-payrail_console');
    expect(sessionCookie('v', 60, true)).toBe(`${SESSION_COOKIE}=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure`);
    expect(clearedSessionCookie(true)).toBe(`${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure`);
  });

  it('drops the __Host- prefix (which browsers refuse without Secure) only for plain-HTTP development', () => {
    expect(sessionCookie('v', 60, false)).toBe(`${DEV_SESSION_COOKIE}=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict`);
    expect(DEV_SESSION_COOKIE.startsWith('__')).toBe(false);
  });

  it('reads one cookie out of a Cookie header', () => {
    expect(readCookie(`a=1; ${SESSION_COOKIE}=abc.def; b=2`, SESSION_COOKIE)).toBe('abc.def');
    expect(readCookie('a=1', SESSION_COOKIE)).toBeUndefined();
    expect(readCookie(undefined, SESSION_COOKIE)).toBeUndefined();
    expect(readCookie(`x${SESSION_COOKIE}=nope`, SESSION_COOKIE)).toBeUndefined();
  });
});
