// Test helpers of the ledger's integration tests and the settlement benchmark (import '@payrail/ledger/testing'; not part of the library's index).
import { randomBytes } from 'node:crypto';
import { createServer, Server, Socket, connect } from 'node:net';
import type { Redis } from '@payrail/messaging';

export function uniquePrefix(name: string): string {
  return `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}${name}:${randomBytes(4).toString('hex')}:`;
}

/**
 * Deletes every key under a prefix in one script, so atomically: the scoped stand-in for FLUSHALL on a shared
 * Redis (a SCAN + UNLINK loop would let postings land between its rounds and leave half a transaction).
 */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  const script = `local n = 0
for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k); n = n + 1 end
return n`;
  return Number(await redis.eval(script, 0, `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`));
}

/**
 * A TCP proxy in front of Redis that can drop the next reply and cut the client's connection: the command ran
 * on Redis but the client never hears back, so ioredis reconnects and re-sends it.
 */
export class ReplyDroppingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private dropNext = false;
  /** Client -> Redis chunks seen, as text (to count what was sent). */
  readonly sent: string[] = [];
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.on('data', (chunk) => {
        this.sent.push(chunk.toString('latin1'));
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (this.dropNext) {
          this.dropNext = false;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  dropNextReply(): void {
    this.dropNext = true;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
