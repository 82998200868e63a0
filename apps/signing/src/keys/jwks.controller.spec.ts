import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SIGNING_CONFIG, SigningConfig } from '../config';
import { es256Key, privateValues, withState, writeKeyFile } from '../testing/key-files';
import { JwksController, matchesEtag } from './jwks.controller';
import { SigningKeyRing } from './signing-key-ring';

describe('GET /.well-known/jwks.json', () => {
  let dir: string;
  let file: string;
  let ring: SigningKeyRing;
  let app: NestFastifyApplication;
  const k1 = es256Key('payrail-sig-a');
  const k2 = es256Key('payrail-sig-b', 'verify-only');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'payrail-jwks-'));
    file = join(dir, 'keys.json');
    writeKeyFile(file, [k1]);
    ring = await SigningKeyRing.open({ keysFile: file, generateDevKeys: false });
    @Module({
      controllers: [JwksController],
      providers: [
        { provide: SigningKeyRing, useValue: ring },
        { provide: SIGNING_CONFIG, useValue: { jwksMaxAgeS: 60 } as SigningConfig },
      ],
    })
    class JwksOnlyModule {}
    app = await NestFactory.create<NestFastifyApplication>(JwksOnlyModule, new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    ring.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (headers: Record<string, string> = {}) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/.well-known/jwks.json', headers });

  it('serves the public signing keys as a JWK set with Cache-Control max-age and an ETag', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json(; charset=utf-8)?$/);
    expect(res.headers['cache-control']).toBe('public, max-age=60, must-revalidate');
    expect(res.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const body = res.json<{ keys: Array<Record<string, unknown>> }>();
    expect(body.keys).toEqual([{ kty: 'EC', crv: 'P-256', x: k1['x'], y: k1['y'], kid: 'payrail-sig-a', use: 'sig', alg: 'ES256' }]);
    for (const secret of privateValues([k1])) expect(res.body).not.toContain(secret);
  });

  it('answers a revalidation with the current ETag with 304 and no body, and a changed key set with 200', async () => {
    const first = await get();
    const etag = String(first.headers['etag']);
    const unchanged = await get({ 'if-none-match': etag });
    expect(unchanged.statusCode).toBe(304);
    expect(unchanged.body).toBe('');
    expect(unchanged.headers['etag']).toBe(etag);
    expect(unchanged.headers['cache-control']).toContain('max-age=60');

    writeKeyFile(file, [k1, k2]);
    await ring.reload();
    const changed = await get({ 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers['etag']).not.toBe(etag);
    expect(changed.json<{ keys: Array<{ kid: string }> }>().keys.map((k) => k.kid)).toEqual(['payrail-sig-a', 'payrail-sig-b']);

    writeKeyFile(file, [withState(k1, 'retired'), withState(k2, 'active')]);
    await ring.reload();
    expect((await get()).json<{ keys: Array<{ kid: string }> }>().keys.map((k) => k.kid)).toEqual(['payrail-sig-b']);
  });
});

describe('If-None-Match matching (RFC 9110)', () => {
  it('matches the tag in a list, weakly, and "*"', () => {
    expect(matchesEtag('"a", W/"b"', '"b"')).toBe(true);
    expect(matchesEtag('*', '"b"')).toBe(true);
    expect(matchesEtag('"a"', '"b"')).toBe(false);
    expect(matchesEtag(undefined, '"b"')).toBe(false);
  });
});
