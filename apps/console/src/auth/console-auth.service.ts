// Sign-in, sessions and sign-out. Successful sign-ins and sign-outs are audited (an operator's own actions);
// refused sign-ins are counted in Prometheus (payrail_operator_access_refused_total), never written into the audit
// trail, so failures cannot push operators' entries out of it. Passwords are only ever handed to scrypt, never
// stored, logged or audited.
// Every request re-reads its user from the users file (refreshed when it changes): a removed user or a changed
// password ends the session; a demoted user acts with the new role. Sessions end after CONSOLE_SESSION_TTL_S idle
// and CONSOLE_SESSION_MAX_AGE_S after sign-in, whichever comes first.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AuditTrail } from '../audit/audit-trail';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { ConsoleRuntime } from '../console.runtime';
import { SignInBackoff } from './sign-in-backoff';
import { Operator, OperatorDirectory, UsernameSchema } from './operator-directory';
import { RedisSessionStore, StoredSession } from './session.store';
import { SessionTokens, readCookie, sessionCookie, sessionCookieName } from './session-tokens';

export interface ConsoleSession {
  readonly id: string;
  readonly operator: Operator;
  readonly csrfToken: string;
}

export type SignInResult =
  | { kind: 'SIGNED_IN'; session: ConsoleSession; setCookie: string }
  | { kind: 'DENIED' }
  | { kind: 'THROTTLED'; retryAfterS: number };

@Injectable()
export class ConsoleAuth {
  private readonly tokens: SessionTokens;
  private readonly store: RedisSessionStore;
  private readonly directory: OperatorDirectory;
  private readonly backoff = new SignInBackoff();
  private readonly cookieName: string;

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    private readonly runtime: ConsoleRuntime,
    private readonly audit: AuditTrail,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('console-auth');
    this.tokens = new SessionTokens(config.sessionKey);
    this.store = new RedisSessionStore(runtime.redis);
    this.directory = new OperatorDirectory(config.users, {
      path: config.usersFile,
      onReloadFailed: (reason) => this.logger.error({ reason }, 'CONSOLE_USERS_FILE changed but cannot be used: the previous users stay in force'),
    });
    this.cookieName = sessionCookieName(config.cookieSecure);
  }

  async signIn(username: string, password: string, address: string): Promise<SignInResult> {
    const who = UsernameSchema.safeParse(username).success ? username : '(not a username)';
    const retryAfterS = this.backoff.retryAfterS(who, address);
    if (retryAfterS > 0) {
      this.runtime.access.refusedAccess('console', 'throttled');
      return { kind: 'THROTTLED', retryAfterS };
    }
    await this.directory.refresh();
    const operator = who === username ? await this.directory.authenticate(username, password) : undefined;
    if (!operator) {
      this.backoff.failed(who, address);
      this.runtime.access.refusedAccess('console', 'denied');
      return { kind: 'DENIED' };
    }
    this.backoff.succeeded(who, address);
    const issued = this.tokens.issue();
    await this.store.create(this.tokens.storageKey(issued.id), { username: operator.username, role: operator.role, credential: operator.credential, createdAtMs: Date.now() }, this.config.sessionTtlS);
    await this.audit.record({ request_id: randomUUID(), at: new Date().toISOString(), operator: operator.username, role: operator.role, action: 'session.sign-in', target: 'session', outcome: 'ok', address });
    return {
      kind: 'SIGNED_IN',
      session: { id: issued.id, operator: { username: operator.username, role: operator.role }, csrfToken: this.tokens.csrfToken(issued.id) },
      // the browser keeps the cookie for the absolute lifetime; the idle time-out is the server's
      setCookie: sessionCookie(issued.cookieValue, this.config.sessionMaxAgeS, this.config.cookieSecure),
    };
  }

  /**
   * The session a request's Cookie header carries, when it is signed by us, alive, and its user is still in the
   * users file with the same password; the operator carries the role the file gives now. Restarts the idle time-out.
   */
  async resolve(cookieHeader: string | undefined): Promise<ConsoleSession | undefined> {
    const id = this.tokens.idFromCookie(readCookie(cookieHeader, this.cookieName));
    if (!id) return undefined;
    const storageKey = this.tokens.storageKey(id);
    const current = await this.current(storageKey);
    if (!current) return undefined;
    await this.store.refresh(storageKey, Math.min(this.config.sessionTtlS * 1000, current.remainingMs));
    return { id, operator: current.operator, csrfToken: this.tokens.csrfToken(id) };
  }

  /** Whether a session is still valid (an open page's live stream ends when it is not); does not count as use. */
  async alive(session: ConsoleSession): Promise<boolean> {
    return (await this.current(this.tokens.storageKey(session.id))) !== undefined;
  }

  csrfValid(session: ConsoleSession, presented: string | undefined): boolean {
    return this.tokens.csrfValid(session.id, presented);
  }

  async signOut(session: ConsoleSession): Promise<void> {
    await this.store.destroy(this.tokens.storageKey(session.id));
    await this.audit.record({ request_id: randomUUID(), at: new Date().toISOString(), operator: session.operator.username, role: session.operator.role, action: 'session.sign-out', target: 'session', outcome: 'ok' });
  }

  /** The stored session checked against the clock and the users file now; ended (deleted) when it fails either. */
  private async current(storageKey: string): Promise<{ operator: Operator; remainingMs: number } | undefined> {
    const stored = await this.store.read(storageKey);
    if (!stored) return undefined;
    await this.directory.refresh();
    const verdict = this.verdict(stored);
    if (verdict.kind === 'ENDED') {
      await this.store.destroy(storageKey);
      this.logger.info({ operator: stored.username, reason: verdict.reason }, 'console session ended');
      return undefined;
    }
    return verdict;
  }

  private verdict(stored: StoredSession): { kind: 'VALID'; operator: Operator; remainingMs: number } | { kind: 'ENDED'; reason: string } {
    const remainingMs = stored.createdAtMs + this.config.sessionMaxAgeS * 1000 - Date.now();
    if (remainingMs <= 0) return { kind: 'ENDED', reason: 'maximum session age reached' };
    const user = this.directory.current(stored.username);
    if (!user) return { kind: 'ENDED', reason: 'user removed from CONSOLE_USERS_FILE' };
    if (user.credential !== stored.credential) return { kind: 'ENDED', reason: 'password changed' };
    return { kind: 'VALID', operator: { username: user.username, role: user.role }, remainingMs };
  }
}
