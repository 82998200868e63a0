// The people who may sign in to the console, from a users file mounted from a Secret (CONSOLE_USERS_FILE):
//   {"users":[{"username":"a.smith","role":"operator","password_scrypt":"scrypt$15$8$1$<salt>$<hash>"}]}
// Only scrypt hashes are stored. `viewer` sees everything; `operator` may also act (REVIEW decisions, replays).
// The file is re-read when it changes (an updated Secret reaches the pod without a restart), and every request
// checks its session's user against the current file: a removed user, or one whose password changed, is signed
// out on their next request; a demoted one acts with the new role from then on.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '@payrail/config';
import { hashPassword, parsePasswordHash, verifyPassword } from '@payrail/crypto';

export const ROLES = ['viewer', 'operator'] as const;
export type ConsoleRole = (typeof ROLES)[number];

export const UsernameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, ".", "_", "@" or "-" (at most 64)');

export const ConsoleUserSchema = z.strictObject({
  username: UsernameSchema,
  role: z.enum(ROLES),
  password_scrypt: z.string().refine((v) => parsePasswordHash(v) !== undefined, 'must be a scrypt hash (scrypt$<log2 N>$<r>$<p>$<salt>$<hash>), never a password'),
});

export const UsersFileSchema = z.strictObject({ users: z.array(ConsoleUserSchema).min(1, 'needs at least one user') }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.users.forEach((u, i) => {
    if (seen.has(u.username.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `duplicate username ${u.username}` });
    seen.add(u.username.toLowerCase());
  });
});

export type ConsoleUser = z.infer<typeof ConsoleUserSchema>;

export function loadUsersFile(path: string): ConsoleUser[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ variable: 'CONSOLE_USERS_FILE', reason: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` }]);
  }
  return parseUsers(text);
}

export function parseUsers(text: string): ConsoleUser[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError([{ variable: 'CONSOLE_USERS_FILE', reason: 'is not JSON ({"users":[{"username","role","password_scrypt"}]})' }]);
  }
  const parsed = UsersFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError([{ variable: 'CONSOLE_USERS_FILE', reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` }]);
  }
  return parsed.data.users;
}

export interface Operator {
  readonly username: string;
  readonly role: ConsoleRole;
}

/** A user as the directory holds them now; `credential` changes whenever their password hash does. */
export interface CurrentOperator extends Operator {
  readonly credential: string;
}

/** The users file to follow, and where to report a change that could not be used (the previous users stay). */
export interface UsersFileSource {
  readonly path: string;
  readonly onReloadFailed: (reason: string) => void;
}

/** Checks credentials; an unknown username costs the same scrypt work as a wrong password. */
export class OperatorDirectory {
  private byName: Map<string, ConsoleUser>;
  private decoy: Promise<string> | undefined;
  /** mtime, size and inode of the file last read: a change of any means a new file (a Secret update swaps a symlink). */
  private fileVersion: string | undefined;

  constructor(
    users: readonly ConsoleUser[],
    private readonly source?: UsersFileSource,
  ) {
    this.byName = byName(users);
  }

  get size(): number {
    return this.byName.size;
  }

  /** Re-reads the users file when it changed since the last read; a bad file is reported and the previous users stay. */
  async refresh(): Promise<void> {
    if (!this.source) return;
    const { path, onReloadFailed } = this.source;
    let version: string;
    try {
      const s = await stat(path);
      version = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch (err) {
      onReloadFailed(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return;
    }
    if (version === this.fileVersion) return;
    this.fileVersion = version;
    try {
      this.byName = byName(parseUsers(await readFile(path, 'utf8')));
    } catch (err) {
      onReloadFailed(err instanceof ConfigError ? (err.problems[0]?.reason ?? err.message) : (err as Error).message);
    }
  }

  /** The user as the directory holds them now (after refresh()), or undefined when they are no longer listed. */
  current(username: string): CurrentOperator | undefined {
    const user = this.byName.get(username.toLowerCase());
    return user ? { username: user.username, role: user.role, credential: credentialOf(user) } : undefined;
  }

  async authenticate(username: string, password: string): Promise<CurrentOperator | undefined> {
    const user = this.byName.get(username.toLowerCase());
    if (!user) {
      this.decoy ??= hashPassword('decoy password that matches nothing');
      await verifyPassword(password, await this.decoy);
      return undefined;
    }
    return (await verifyPassword(password, user.password_scrypt)) ? { username: user.username, role: user.role, credential: credentialOf(user) } : undefined;
  }
}

function byName(users: readonly ConsoleUser[]): Map<string, ConsoleUser> {
  return new Map(users.map((u) => [u.username.toLowerCase(), u]));
}

/** A short fingerprint of the user's password hash (stored with a session; never the hash itself). */
function credentialOf(user: ConsoleUser): string {
  return createHash('sha256').update(user.password_scrypt).digest('base64url').slice(0, 22);
}

export function mayAct(role: ConsoleRole): boolean {
  return role === 'operator';
}
