import { SignInBackoff } from './sign-in-backoff';

const policy = { freeFailures: 3, freeFailuresPerAddress: 10, maxDelayS: 60, windowMs: 3_600_000 };

describe('SignInBackoff', () => {
  it('delays a username from an address by doubling waits after the free failures, up to the cap', () => {
    let now = 0;
    const backoff = new SignInBackoff(policy, () => now);
    for (let i = 0; i < 3; i++) {
      expect(backoff.retryAfterS('alice', '10.0.0.1')).toBe(0);
      backoff.failed('alice', '10.0.0.1');
    }
    expect(backoff.retryAfterS('alice', '10.0.0.1')).toBe(1);
    expect(backoff.retryAfterS('ALICE', '10.0.0.1')).toBe(1);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      now += backoff.retryAfterS('alice', '10.0.0.1') * 1000;
      backoff.failed('alice', '10.0.0.1');
      waits.push(backoff.retryAfterS('alice', '10.0.0.1'));
    }
    expect(waits).toEqual([2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it("never locks the real user out: a stranger's failures from another address delay only the stranger", () => {
    const backoff = new SignInBackoff(policy, () => 0);
    for (let i = 0; i < 50; i++) backoff.failed('alice', '198.51.100.66');
    expect(backoff.retryAfterS('alice', '198.51.100.66')).toBe(60);
    expect(backoff.retryAfterS('alice', '10.0.0.1')).toBe(0);
    expect(backoff.retryAfterS('bob', '10.0.0.1')).toBe(0);
  });

  it('slows an address that sprays many usernames, without touching other addresses', () => {
    const backoff = new SignInBackoff(policy, () => 0);
    for (let i = 0; i < 10; i++) backoff.failed(`user${i}`, '198.51.100.66');
    expect(backoff.retryAfterS('someone-new', '198.51.100.66')).toBe(1);
    expect(backoff.retryAfterS('someone-new', '10.0.0.1')).toBe(0);
  });

  it('forgets a username’s failures after a successful sign-in and old failures after the window', () => {
    let now = 0;
    const backoff = new SignInBackoff(policy, () => now);
    for (let i = 0; i < 3; i++) backoff.failed('alice', 'a');
    backoff.succeeded('alice', 'a');
    expect(backoff.retryAfterS('alice', 'a')).toBe(0);
    for (let i = 0; i < 5; i++) backoff.failed('bob', 'a');
    now += 3_600_001;
    expect(backoff.retryAfterS('bob', 'a')).toBe(0);
  });
});
