// The browser of the console's end-to-end test: Debian's `chromium` package, driven by playwright-core through
// `executablePath` (no browser download). Installed here when missing, so a fresh machine needs no manual step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { log } from '../../deploy/local/process-utils.mjs';

/** Where the browser is; PAYRAIL_CHROMIUM points elsewhere (another distribution, a Chrome build). */
export const chromiumPath = () => process.env.PAYRAIL_CHROMIUM || '/usr/bin/chromium';

/** Returns the browser's path, installing Debian's `chromium` package first when it is missing. */
export function ensureChromium() {
  const path = chromiumPath();
  if (existsSync(path)) return path;
  if (!existsSync('/usr/bin/apt-get')) {
    throw new Error(`no browser at ${path}: install Chromium (Debian/Ubuntu: apt-get install chromium) or set PAYRAIL_CHROMIUM to its path`);
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) throw new Error(`no browser at ${path}: run "sudo apt-get install -y chromium" once (or set PAYRAIL_CHROMIUM)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000 });
  log('installing Debian\'s chromium package for the browser test (apt-get install -y chromium)');
  let res = apt('install', '-y', 'chromium');
  if (res.status !== 0) {
    // a fresh image has no package lists yet, or stale ones
    log('apt-get install failed; refreshing the package lists (apt-get update) and trying again');
    apt('update');
    res = apt('install', '-y', 'chromium');
  }
  if (res.status !== 0 || !existsSync(path)) {
    throw new Error(`installing chromium failed (exit ${res.status}):\n${`${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')}`);
  }
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  log(`chromium installed: ${version || path}`);
  return path;
}
