// The people who may sign in to the console, from a users file mounted from a Secret (CONSOLE_USERS_FILE):
//   {"users":[{"username":"a.smith","role":"operator","password_scrypt":"scrypt$15$8$1$<salt>$<hash>"}]}
// Only scrypt hashes are stored. `viewer` sees everything; `operator` may also act (REVIEW decisions, replays).
import { readFileSync } from 'node:fs';
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

/** Checks credentials; an unknown username costs the same scrypt work as a wrong password. */
export class OperatorDirectory {
  private readonly byName: Map<string, ConsoleUser>;
  private decoy: Promise<string> | undefined;

  constructor(users: readonly ConsoleUser[]) {
    this.byName = new Map(users.map((u) => [u.username.toLowerCase(), u]));
  }

  get size(): number {
    return this.byName.size;
  }

  async authenticate(username: string, password: string): Promise<Operator | undefined> {
    const user = this.byName.get(username.toLowerCase());
    if (!user) {
      this.decoy ??= hashPassword('decoy password that matches nothing');
      await verifyPassword(password, await this.decoy);
      return undefined;
    }
    return (await verifyPassword(password, user.password_scrypt)) ? { username: user.username, role: user.role } : undefined;
  }
}

export function mayAct(role: ConsoleRole): boolean {
  return role === 'operator';
}
