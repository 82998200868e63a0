// Redis over TLS, configured the way a service is (REDIS_URL=rediss://..., REDIS_TLS_CA_FILE): this test starts a
// private redis-server with a TLS port and a throw-away CA (openssl), connects through our client with the CA, and
// shows that a client without it refuses the server's certificate. Needs `redis-server` (built with TLS, as Debian's
// and Homebrew's are) and `openssl` on the PATH.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { parseEnv } from '@payrail/config';
import { connectRedis, createRedis, Redis, redisReady } from './redis-client';
import { redisConnectionFromEnv, redisEnvFragment } from './redis.config';
import { PrivateRedis, startPrivateRedis } from '../../test/private-redis';

const run = promisify(execFile);

/** A CA and a server certificate for 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=Payrail test CA');
  await openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext');
}

describe('Redis over TLS (rediss:// with REDIS_TLS_CA_FILE)', () => {
  let server: PrivateRedis;
  let port = 0;
  let dir = '';
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis(
      'tls',
      (tlsPort, folder) => [
        '--port', '0', '--tls-port', String(tlsPort),
        '--tls-cert-file', join(folder, 'server.crt'), '--tls-key-file', join(folder, 'server.key'), '--tls-ca-cert-file', join(folder, 'ca.crt'),
        '--tls-auth-clients', 'no',
      ],
      makeCertificates,
    );
    ({ port, dir } = server);
  });

  afterAll(async () => {
    await Promise.all(clients.filter((c) => c.status !== 'end').map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    server?.stop();
  });

  it('connects with the configured CA and works', async () => {
    const config = redisConnectionFromEnv(parseEnv(z.object(redisEnvFragment), { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_TLS_CA_FILE: join(dir, 'ca.crt') }));
    const redis = createRedis(config, 'payrail-int-tls');
    clients.push(redis);
    await connectRedis(redis, config);
    expect(await redisReady(redis)).toBe(true);
    expect(await redis.set('tls-check', 'ok', 'EX', 60)).toBe('OK');
    expect(await redis.get('tls-check')).toBe('ok');
  });

  it('refuses a server whose certificate it cannot verify (no CA configured)', async () => {
    const config = redisConnectionFromEnv(parseEnv(z.object(redisEnvFragment), { REDIS_URL: `rediss://127.0.0.1:${port}` }));
    const redis = createRedis(config, 'payrail-int-tls-no-ca');
    clients.push(redis);
    const error = await connectRedis(redis, config).then(() => undefined, (err: unknown) => err as Error);
    expect(error?.message).toMatch(new RegExp(`^cannot connect to Redis at rediss://127\\.0\\.0\\.1:${port}: (self[- ]signed certificate in certificate chain|unable to verify)`));
  });
});
