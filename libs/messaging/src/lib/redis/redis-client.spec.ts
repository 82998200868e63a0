import { redactRedisUrl } from './redis-client';

describe('redactRedisUrl', () => {
  it('keeps user, host, port and database and replaces the password', () => {
    expect(redactRedisUrl('redis://payrail-settlement:s3cr3t-Pa55@redis.internal:6380/2')).toBe('redis://payrail-settlement:***@redis.internal:6380/2');
    expect(redactRedisUrl('rediss://:only-a-password@10.0.0.7:6379')).toBe('rediss://:***@10.0.0.7:6379');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('never echoes a value it cannot parse (it might be a secret)', () => {
    expect(redactRedisUrl('::not a url with s3cr3t')).toBe('(unparsable Redis URL)');
  });
});
