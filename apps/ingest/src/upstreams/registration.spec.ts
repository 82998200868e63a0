import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@payrail/config';
import { REGISTRATION_MAX_BYTES, RegistrationFile, checkUpstreamRegistrations, parseRegistration, resolveRegistrations } from './registration';

function ecKey(kid: string, privateKey = false): Record<string, unknown> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey ? pair.privateKey : pair.publicKey).export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' };
}

function registration(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { upstream_id: id, jwks: { keys: [ecKey(`${id}-k1`)] }, algorithms: ['ES256'], merchants: ['m-coffee-berlin'], ...overrides };
}

const file = (name: string, json: unknown): RegistrationFile => ({ file: name, bytes: Buffer.from(JSON.stringify(json)) });

const reasonOf = (f: RegistrationFile): string => {
  const r = parseRegistration(f);
  if (!('reason' in r)) throw new Error('expected a refusal');
  return r.reason;
};

describe('upstream registration parsing', () => {
  it('accepts a registration of public keys with its merchants', () => {
    const r = parseRegistration(file('psp-alpha.json', registration('psp-alpha')));
    expect(r).toMatchObject({ upstream_id: 'psp-alpha', merchants: ['m-coffee-berlin'], algorithms: ['ES256'] });
  });

  it('refuses unknown fields, naming them (top level, keys and limits)', () => {
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { merchant: ['m-1'] })))).toContain('unknown field(s) merchant');
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { limits: { requests_per_second: 1, burst: 1, window: 3 } })))).toContain('limits: unknown field(s) window');
    const keys = [{ ...ecKey('k'), x5u: 'https://evil.example/key' }];
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { jwks: { keys } })))).toContain('unknown field(s) x5u');
  });

  it('requires the merchants it may pay', () => {
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { merchants: undefined })))).toContain('merchants');
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { merchants: [] })))).toContain('merchants');
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { merchants: ['not a merchant id'] })))).toContain('merchants.0');
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])('refuses a JWK with the private member %s', (member) => {
    const keys = [{ ...ecKey('k'), [member]: 'AAAA' }];
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { jwks: { keys } })))).toContain(`private key member(s) ${member}`);
  });

  it('refuses a whole private key, a symmetric key and a key without kid', () => {
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { jwks: { keys: [ecKey('k', true)] } })))).toContain('private key member(s) d');
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 's' }] } })))).toContain('private key member(s) k');
    const { kid: _kid, ...noKid } = ecKey('k');
    expect(reasonOf(file('psp-alpha.json', registration('psp-alpha', { jwks: { keys: [noKid] } })))).toContain('kid');
  });

  it('binds the file name to upstream_id', () => {
    expect(reasonOf(file('psp-beta.json', registration('psp-alpha')))).toBe('upstream_id psp-alpha must be registered in psp-alpha.json');
  });

  it(`refuses a file over ${REGISTRATION_MAX_BYTES} bytes without parsing it`, () => {
    expect(reasonOf({ file: 'psp-alpha.json', bytes: Buffer.alloc(0), size: REGISTRATION_MAX_BYTES + 1 })).toContain('over the');
    const padded = registration('psp-alpha', { merchants: Array.from({ length: 9_000 }, (_, i) => `m-${'x'.repeat(50)}-${i}`) });
    expect(reasonOf(file('psp-alpha.json', padded))).toContain('over the');
  });

  it('refuses a file that is not JSON', () => {
    expect(reasonOf({ file: 'psp-alpha.json', bytes: Buffer.from('{ nope') })).toContain('not JSON');
  });
});

describe('kid claimed by two upstreams', () => {
  const victim = registration('psp-victim');
  const victimKid = String((victim['jwks'] as { keys: { kid: string }[] }).keys[0]?.kid);
  const attacker = registration('psp-attacker', { jwks: { keys: [{ ...ecKey('x'), kid: victimKid }] } });
  const third = registration('psp-third', { jwks: { keys: [{ ...ecKey('y'), kid: victimKid }] } });
  const files = [file('psp-victim.json', victim), file('psp-attacker.json', attacker), file('psp-third.json', third)];

  it('at boot, refuses every claimant, naming the kid and the upstreams', () => {
    const set = resolveRegistrations(files);
    expect([...set.registrations.keys()]).toEqual([]);
    expect(set.problems.map((p) => p.file).sort()).toEqual(['psp-attacker.json', 'psp-third.json', 'psp-victim.json']);
    for (const p of set.problems) expect(p.reason).toContain(`kid ${victimKid} is claimed by upstreams`);
    expect(set.problems[0]?.reason).toMatch(/psp-attacker and psp-third and psp-victim|psp-attacker and psp-victim/);
  });

  it('on reload, the upstream that held the kid keeps it and the newcomers are refused as a whole', () => {
    const set = resolveRegistrations(files, new Map([[victimKid, 'psp-victim']]));
    expect([...set.registrations.keys()]).toEqual(['psp-victim']);
    expect(set.problems.map((p) => p.file).sort()).toEqual(['psp-attacker.json', 'psp-third.json']);
    expect(set.problems[0]?.reason).toContain('it stays with psp-victim');
  });

  it('checkUpstreamRegistrations refuses to start on UPSTREAMS_DIR, naming file, kid and both upstreams', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registrations-'));
    try {
      writeFileSync(join(dir, 'psp-victim.json'), JSON.stringify(victim));
      writeFileSync(join(dir, 'psp-attacker.json'), JSON.stringify(attacker));
      expect(() => checkUpstreamRegistrations(dir)).toThrow(ConfigError);
      expect(() => checkUpstreamRegistrations(dir)).toThrow(new RegExp(`UPSTREAMS_DIR: psp-attacker.json: kid ${victimKid} is claimed by upstreams psp-attacker and psp-victim`));
      rmSync(join(dir, 'psp-attacker.json'));
      expect(() => checkUpstreamRegistrations(dir)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
