// The pure functions of deploy/local (the broker and Redis of `npm start` / `npm test` without Docker).
import { KAFKA_ADMIN_USERNAME, kafkaAccessTable } from '@payrail/contracts';
import { KAFKA_ADMIN_USER, KAFKA_BROKER_USER, KAFKA_CLIENT_USERS, KAFKA_CONTROLLER_USER, newClusterId, serverProperties } from './local/kafka.mjs';
import { RedisReplyError, encodeCommand, newRunPrefix, parseReply, prefixPattern } from './local/redis.mjs';

describe('newClusterId (kafka-storage format --cluster-id)', () => {
  it('never starts with "-", is 22 characters of base64url and decodes to a 16-byte version-4 UUID, over 100,000 ids', () => {
    const ids = Array.from({ length: 100_000 }, () => newClusterId());
    const leadingDash = ids.filter((id) => id.startsWith('-'));
    expect({ count: leadingDash.length, examples: leadingDash.slice(0, 3) }).toEqual({ count: 0, examples: [] });
    for (const id of ids) {
      if (!/^[A-Za-z0-9_-]{22}$/.test(id)) throw new Error(`not 22 characters of base64url: ${id}`);
      const bytes = Buffer.from(id, 'base64url');
      if (bytes.length !== 16 || bytes.toString('base64url') !== id) throw new Error(`does not decode to 16 bytes: ${id}`);
      if ((bytes[6] ?? 0) >> 4 !== 4 || (bytes[8] ?? 0) >> 6 !== 0b10) throw new Error(`not a version-4 UUID: ${id}`);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // the ids are random: every first character of base64url except '-' shows up (63 of them, ~1,600 times each)
    expect(new Set(ids.map((id) => id[0])).size).toBe(63);
  });

  it('draws again when the random bytes would give a leading "-" (the case the old `-t <id>` failed on, 1 in 64)', () => {
    const dash = Buffer.alloc(16, 7);
    dash[0] = 0xf8; // first six bits 111110: base64url '-'
    const second = Buffer.alloc(16, 0x41); // first six bits 010000: 'Q', so exactly two draws
    const draws = [dash, second];
    let calls = 0;
    const id = newClusterId(() => draws[calls++] ?? Buffer.alloc(16, 0x41));
    expect(calls).toBe(2);
    expect(id.startsWith('-')).toBe(false);
    expect(Buffer.from(id, 'base64url').subarray(9)).toEqual((draws[1] as Buffer).subarray(9));
  });
});

describe('the Redis key clean-up of deploy/local/redis.mjs (its I/O: deploy/local-redis.int-spec.ts)', () => {
  it('matches exactly the keys that start with the prefix: glob characters in it are taken literally', () => {
    expect(prefixPattern('payrail-run-once-1a2b3c4d:')).toBe('payrail-run-once-1a2b3c4d:*');
    expect(prefixPattern('a*b?c[d]e\\f:')).toBe('a\\*b\\?c\\[d\\]e\\\\f:*');
  });

  it('gives each run a prefix of its own that REDIS_KEY_PREFIX accepts', () => {
    const prefix = newRunPrefix('bench fraud/1');
    expect(prefix).toMatch(/^payrail-run-bench-fraud-1-[0-9a-f]{8}:$/);
    expect(prefix).toMatch(/^[A-Za-z0-9:_-]*$/);
    expect(newRunPrefix('once')).not.toBe(newRunPrefix('once'));
  });

  it('encodes commands byte for byte and parses SCAN-shaped replies, also split across reads', () => {
    const key = Buffer.from([0x70, 0x3a, 0xff, 0x00, 0x0d, 0x0a]); // not UTF-8, with CR LF inside
    expect(encodeCommand(['UNLINK', key])).toEqual(Buffer.concat([Buffer.from('*2\r\n$6\r\nUNLINK\r\n$6\r\n'), key, Buffer.from('\r\n')]));
    const reply = Buffer.concat([Buffer.from('*2\r\n$4\r\n1234\r\n*2\r\n$6\r\n'), key, Buffer.from('\r\n$-1\r\n:7\r\n')]);
    for (let cut = 0; cut < reply.length - 5; cut++) expect(parseReply(reply.subarray(0, cut))).toBeUndefined();
    const parsed = parseReply(reply);
    expect(parsed?.value).toEqual([Buffer.from('1234'), [key, null]]);
    expect(parseReply(reply, parsed?.end)).toEqual({ value: 7, end: reply.length });
    expect(parseReply(Buffer.from('+PONG\r\n'))).toEqual({ value: 'PONG', end: 7 });
    const error = parseReply(Buffer.from('-NOPERM no permissions\r\n'))?.value;
    expect(error).toBeInstanceOf(RedisReplyError);
    expect((error as Error).message).toBe('NOPERM no permissions');
  });
});

describe('the local broker: authenticated, least privilege (server.properties)', () => {
  const credentials = {
    dir: '/run/creds',
    users: {},
    broker: { username: KAFKA_BROKER_USER, password: 'broker-secret' },
    controller: { username: KAFKA_CONTROLLER_USER, password: 'controller-secret' },
  };
  const props = (extra = {}) => Object.fromEntries(serverProperties({ port: 9092, controllerPort: 9093, dataDir: '/data', credentials, ...extra }).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  it('has a SCRAM user for the admin and every principal of the ACL table, and no other', () => {
    expect([...KAFKA_CLIENT_USERS].sort()).toEqual([KAFKA_ADMIN_USER, ...kafkaAccessTable().map((p) => p.username)].sort());
    expect(KAFKA_ADMIN_USER).toBe(KAFKA_ADMIN_USERNAME);
  });

  it('listens with SASL only: SCRAM-SHA-512 for clients and replication, PLAIN for the controllers; no PLAINTEXT listener', () => {
    const p = props();
    expect(p['listener.security.protocol.map']).toBe('CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT');
    expect(p['listeners']).toBe('CLIENT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(p['inter.broker.listener.name']).toBe('CLIENT');
    expect(p['listener.name.client.sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
    expect(p['sasl.mechanism.inter.broker.protocol']).toBe('SCRAM-SHA-512');
    expect(p['sasl.mechanism.controller.protocol']).toBe('PLAIN');
    expect(p['listener.name.controller.plain.sasl.jaas.config']).toContain(`user_${KAFKA_CONTROLLER_USER}="controller-secret"`);
  });

  it('authorizes with StandardAuthorizer, denies what no ACL allows, and has only the brokers, controllers and admin as super users', () => {
    const p = props();
    expect(p['authorizer.class.name']).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(p['allow.everyone.if.no.acl.found']).toBe('false');
    expect(p['super.users']).toBe(`User:${KAFKA_BROKER_USER};User:${KAFKA_CONTROLLER_USER};User:${KAFKA_ADMIN_USER}`);
  });

  it('speaks SASL_SSL on the client listener with a PEM keystore when given TLS files, and never has an unauthenticated listener', () => {
    const p = props({ tls: { keystore: '/tls/broker.pem', truststore: '/tls/ca.crt' } });
    expect(p['listener.security.protocol.map']).toBe('CLIENT:SASL_SSL,CONTROLLER:SASL_PLAINTEXT');
    expect(p['listener.name.client.ssl.keystore.type']).toBe('PEM');
    expect(p['listener.name.client.ssl.keystore.location']).toBe('/tls/broker.pem');
    expect(p['listener.name.client.ssl.truststore.location']).toBe('/tls/ca.crt');
    expect(p['listener.name.client.sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
    for (const variant of [p, props()]) {
      expect(variant['listener.security.protocol.map']).not.toMatch(/:PLAINTEXT(,|$)/);
      expect(variant['super.users']).not.toContain('ANONYMOUS');
    }
  });
});
