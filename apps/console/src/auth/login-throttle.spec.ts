import { LoginThrottle } from './login-throttle';

describe('LoginThrottle', () => {
  it('refuses a username from an address after 5 failures until the oldest leaves the 15-minute window', () => {
    let now = 0;
    const throttle = new LoginThrottle(5, 15 * 60_000, () => now);
    for (let i = 0; i < 5; i++) {
      expect(throttle.retryAfterS('alice', '10.0.0.1')).toBe(0);
      throttle.failed('alice', '10.0.0.1');
      now += 60_000;
    }
    expect(throttle.retryAfterS('alice', '10.0.0.1')).toBe(10 * 60);
    expect(throttle.retryAfterS('ALICE', '10.0.0.1')).toBe(10 * 60);
    // another address, another user: not affected
    expect(throttle.retryAfterS('alice', '10.0.0.2')).toBe(0);
    expect(throttle.retryAfterS('bob', '10.0.0.1')).toBe(0);
    now += 10 * 60_000;
    expect(throttle.retryAfterS('alice', '10.0.0.1')).toBe(0);
  });

  it('forgets failures after a successful sign-in', () => {
    const throttle = new LoginThrottle(2, 60_000, () => 0);
    throttle.failed('alice', 'a');
    throttle.failed('alice', 'a');
    expect(throttle.retryAfterS('alice', 'a')).toBeGreaterThan(0);
    throttle.succeeded('alice', 'a');
    expect(throttle.retryAfterS('alice', 'a')).toBe(0);
  });
});
