// The console page: one HTML file, one ES module and one stylesheet, read once at start and served as they are.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '@payrail/platform';

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** Where the page's files are: next to the bundle (dist/apps/console/assets) or in the sources (src/assets). */
export function assetsDir(): string {
  const candidates = [join(__dirname, 'assets'), join(__dirname, '..', 'assets')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`console page not found in ${candidates.join(' or ')}`);
  return found;
}

@Controller()
export class PageController {
  private readonly files = new Map<string, Buffer>();

  constructor() {
    const dir = assetsDir();
    for (const name of Object.keys(TYPES)) this.files.set(name, readFileSync(join(dir, name)));
  }

  @Get()
  index(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    if (name === 'index.html' || !this.files.has(name)) throw new ProblemException(404, 'not-found', 'Not found', `no asset ${name}`);
    this.send(reply, name);
  }

  private send(reply: FastifyReply, name: string): void {
    void reply.header('content-type', TYPES[name] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(this.files.get(name));
  }
}

/**
 * Headers on every console response: the page runs only its own script and style (no inline code, no third-party
 * origins), cannot be framed, leaks no referrer; API answers are never cached.
 */
export function securityHeaders(url: string): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    ...(url.startsWith('/api/') ? { 'cache-control': 'no-store' } : {}),
  };
}
