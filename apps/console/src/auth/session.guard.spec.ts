import { fromConsoleOrigin } from './session.guard';

describe('fromConsoleOrigin (sign-in and every state-changing request)', () => {
  const host = 'console.example.com';

  it("accepts the console's own page, and clients that are no browser (no Origin, no Sec-Fetch-Site)", () => {
    expect(fromConsoleOrigin({ origin: `https://${host}`, host, 'sec-fetch-site': 'same-origin' }, undefined)).toBe(true);
    expect(fromConsoleOrigin({ host }, undefined)).toBe(true);
    expect(fromConsoleOrigin({ origin: 'https://console.example.com', host: 'payrail-console:8084' }, 'https://console.example.com')).toBe(true);
  });

  it('refuses cross-site and same-site (sibling host) fetches, foreign and opaque origins', () => {
    expect(fromConsoleOrigin({ origin: 'https://evil.example', host, 'sec-fetch-site': 'cross-site' }, undefined)).toBe(false);
    expect(fromConsoleOrigin({ origin: 'https://blog.example.com', host, 'sec-fetch-site': 'same-site' }, undefined)).toBe(false);
    expect(fromConsoleOrigin({ 'sec-fetch-site': 'cross-site', host }, undefined)).toBe(false);
    expect(fromConsoleOrigin({ origin: 'https://evil.example', host }, undefined)).toBe(false);
    expect(fromConsoleOrigin({ origin: 'null', host }, undefined)).toBe(false);
    // behind a proxy with CONSOLE_PUBLIC_URL: only that origin, whatever Host says
    expect(fromConsoleOrigin({ origin: 'http://payrail-console:8084', host: 'payrail-console:8084' }, 'https://console.example.com')).toBe(false);
  });
});
