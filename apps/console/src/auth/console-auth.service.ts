// Sign-in, sessions and sign-out. Every sign-in attempt and sign-out is audited; passwords are only ever handed
// to scrypt, never stored, logged or audited.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { ConsoleRuntime } from '../console.runtime';
import { LoginThrottle } from './login-throttle';
import { Operator, OperatorDirectory, UsernameSchema } from './operator-directory';
import { RedisSessionStore } from './session.store';
import { SESSION_COOKIE, SessionTokens, readCookie, sessionCookie } from './session-tokens';

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
  /** Per username and address; and per username from anywhere (addresses behind a proxy can be varied). */
  private readonly throttle = new LoginThrottle();
  private readonly userThrottle = new LoginThrottle(20);

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    runtime: ConsoleRuntime,
    private readonly audit: AuditTrail,
  ) {
    this.tokens = new SessionTokens(config.sessionKey);
    this.store = new RedisSessionStore(runtime.redis, config.sessionTtlS);
    this.directory = new OperatorDirectory(config.users);
  }

  async signIn(username: string, password: string, address: string): Promise<SignInResult> {
    const who = UsernameSchema.safeParse(username).success ? username : '(not a username)';
    const record = (outcome: string, role: Operator['role'] | 'none') =>
      this.audit.record({ request_id: randomUUID(), at: new Date().toISOString(), operator: who, role, action: 'session.sign-in', target: 'session', outcome, address });
    const retryAfterS = Math.max(this.throttle.retryAfterS(who, address), this.userThrottle.retryAfterS(who, '*'));
    if (retryAfterS > 0) {
      await record('throttled', 'none');
      return { kind: 'THROTTLED', retryAfterS };
    }
    const operator = who === username ? await this.directory.authenticate(username, password) : undefined;
    if (!operator) {
      this.throttle.failed(who, address);
      this.userThrottle.failed(who, '*');
      await record('denied', 'none');
      return { kind: 'DENIED' };
    }
    this.throttle.succeeded(who, address);
    const issued = this.tokens.issue();
    await this.store.create(this.tokens.storageKey(issued.id), { username: operator.username, role: operator.role, createdAt: new Date().toISOString() });
    await record('ok', operator.role);
    return {
      kind: 'SIGNED_IN',
      session: { id: issued.id, operator, csrfToken: this.tokens.csrfToken(issued.id) },
      setCookie: sessionCookie(issued.cookieValue, this.config.sessionTtlS, this.config.cookieSecure),
    };
  }

  /** The session a request's Cookie header carries, when it is signed by us and still alive. */
  async resolve(cookieHeader: string | undefined): Promise<ConsoleSession | undefined> {
    const id = this.tokens.idFromCookie(readCookie(cookieHeader, SESSION_COOKIE));
    if (!id) return undefined;
    const stored = await this.store.touch(this.tokens.storageKey(id));
    if (!stored) return undefined;
    return { id, operator: { username: stored.username, role: stored.role }, csrfToken: this.tokens.csrfToken(id) };
  }

  /** Whether a session is still signed in (an open page's live stream ends when it is not). */
  async alive(session: ConsoleSession): Promise<boolean> {
    return this.store.exists(this.tokens.storageKey(session.id));
  }

  csrfValid(session: ConsoleSession, presented: string | undefined): boolean {
    return this.tokens.csrfValid(session.id, presented);
  }

  async signOut(session: ConsoleSession): Promise<void> {
    await this.store.destroy(this.tokens.storageKey(session.id));
    await this.audit.record({ request_id: randomUUID(), at: new Date().toISOString(), operator: session.operator.username, role: session.operator.role, action: 'session.sign-out', target: 'session', outcome: 'ok' });
  }
}
