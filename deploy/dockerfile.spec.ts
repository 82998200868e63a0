// The Dockerfile cannot be built here (no Docker engine): this test parses it (dockerfile-ast, the parser of the
// Dockerfile language server) and checks the properties the deployment relies on: a current Node LTS slim base,
// multi-stage, the app's Nx-generated package.json with its pruned lock file, non-root, nothing writable but
// /tmp, tini as PID 1, a healthcheck on the port the app's config schema defaults to.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, Instruction } from 'dockerfile-ast';
import { SERVICE_NAMES, defaultPort, repoRoot } from './service-facts';

const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const instructions = dockerfile.getInstructions();
const froms = dockerfile.getFROMs();

/** Instructions of the stage that starts at the given FROM, up to the next FROM. */
function stage(name: string): Instruction[] {
  const index = froms.findIndex((f) => f.getBuildStage() === name);
  if (index < 0) throw new Error(`no stage ${name}`);
  const start = froms[index]?.getRange().start.line ?? 0;
  const end = froms[index + 1]?.getRange().start.line ?? Number.MAX_SAFE_INTEGER;
  return instructions.filter((i) => i.getRange().start.line > start && i.getRange().start.line < end);
}

const args = (i: Instruction): string => i.getArgumentsContent() ?? '';
/** The instruction's arguments with its flags (--from=..., --chown=...). */
const line = (i: Instruction): string => i.getTextContent().replace(/^\s*[A-Za-z]+\s+/, '');
const ofKind = (list: Instruction[], keyword: string): Instruction[] => list.filter((i) => i.getKeyword() === keyword);
const jsonArray = (i: Instruction | undefined): string[] => JSON.parse(args(i as Instruction)) as string[];

describe('Dockerfile', () => {
  const nodeImageArg = instructions.find((i) => i.getKeyword() === 'ARG' && args(i).startsWith('NODE_IMAGE='));
  const runtime = stage('runtime');

  it('builds on a current Node.js LTS slim image, the same one in every stage', () => {
    const image = args(nodeImageArg as Instruction).replace('NODE_IMAGE=', '');
    const m = /^node:(\d+)-(bookworm|trixie)-slim$/.exec(image);
    expect(m).not.toBeNull();
    const major = Number(m?.[1]);
    // LTS lines are the even majors; 22 and 24 are the maintained ones when this was written
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    for (const from of froms) expect(from.getImageName()).toBe('${NODE_IMAGE}');
  });

  it('is multi-stage: build, production dependencies, tini and a runtime stage that is last', () => {
    expect(froms.map((f) => f.getBuildStage())).toEqual(['build', 'deps', 'tini', 'runtime']);
  });

  it("installs the app's Nx-generated package.json with the lock file Nx prunes from the root lock, production only", () => {
    const build = stage('build');
    expect(args(ofKind(build, 'COPY')[0] as Instruction)).toBe('package.json package-lock.json .npmrc ./');
    expect(ofKind(build, 'RUN').some((r) => /npx nx build "\$\{APP\}"/.test(args(r)))).toBe(true);
    const deps = stage('deps');
    expect(ofKind(deps, 'COPY').map(line)[0]).toBe('--from=build /out/package.json /out/package-lock.json ./');
    expect(ofKind(deps, 'RUN').map(args).join(' ')).toMatch(/npm ci --omit=dev\b/);
    // the dependency patches (patches/) are applied in the build stage and their files carried into the runtime's
    // node_modules: every file a patch touches is copied from the build stage, after the production install
    expect(args(ofKind(build, 'COPY')[1] as Instruction)).toBe('patches ./patches');
    expect(ofKind(build, 'RUN').some((r) => /npm ci .*--ignore-scripts && npx patch-package --error-on-fail/.test(args(r)))).toBe(true);
    const patched = readdirSync(join(repoRoot, 'patches')).flatMap((f) =>
      [...readFileSync(join(repoRoot, 'patches', f), 'utf8').matchAll(/^\+\+\+ b\/(node_modules\/\S+)$/gm)].map((m) => m[1] ?? ''),
    );
    expect(patched.length).toBeGreaterThan(0);
    const carried = ofKind(deps, 'COPY').slice(1).map(line);
    // laid over the production install (npm ci empties node_modules first), and only onto the version patched
    const installLine = ofKind(deps, 'RUN').find((r) => /npm ci/.test(args(r)))?.getRange().start.line ?? Infinity;
    for (const copy of ofKind(deps, 'COPY').slice(1)) expect(copy.getRange().start.line).toBeGreaterThan(installLine);
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const f of readdirSync(join(repoRoot, 'patches'))) {
      const [, name = '', version = ''] = /^(.+)\+(\d+\.\d+\.\d+)\.patch$/.exec(f) ?? [];
      expect(lock.packages[`node_modules/${name}`]?.version).toBe(version);
    }
    for (const file of patched) {
      expect(carried.some((c) => { const [, from = '', to = ''] = /^--from=build \/src\/(\S+) \.\/(\S+)$/.exec(c) ?? []; return from === to && file.startsWith(from); })).toBe(true);
    }
    // every app's build writes them (NxAppWebpackPlugin generatePackageJson), through the shared config into dist/apps/<app>
    expect(readFileSync(join(repoRoot, 'tools/webpack/node-app.cjs'), 'utf8')).toMatch(/generatePackageJson:\s*true/);
    for (const app of [...SERVICE_NAMES, 'payrail-cli']) {
      expect(readFileSync(join(repoRoot, 'apps', app, 'webpack.config.js'), 'utf8')).toContain(`nodeAppConfig('${app}'`);
    }
  });

  it('runs as a numeric non-root user and leaves the code owned by root', () => {
    const users = ofKind(runtime, 'USER').map(args);
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0] ?? '').split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    for (const copy of ofKind(runtime, 'COPY')) expect(line(copy)).not.toMatch(/--chown|--chmod/);
    // the USER switch comes after every COPY/RUN of the runtime stage
    const userLine = ofKind(runtime, 'USER')[0]?.getRange().start.line ?? 0;
    for (const i of [...ofKind(runtime, 'COPY'), ...ofKind(runtime, 'RUN')]) expect(i.getRange().start.line).toBeLessThan(userLine);
  });

  it('writes nothing outside /tmp: HOME and TMPDIR are /tmp, no VOLUME, no package manager at run time', () => {
    const envText = ofKind(runtime, 'ENV').map(args).join(' ');
    expect(envText).toMatch(/\bHOME=\/tmp\b/);
    expect(envText).toMatch(/\bTMPDIR=\/tmp\b/);
    expect(envText).toMatch(/\bNODE_ENV=production\b/);
    expect(ofKind(runtime, 'VOLUME')).toHaveLength(0);
    expect(ofKind(runtime, 'RUN')).toHaveLength(0);
    expect(jsonArray(ofKind(runtime, 'CMD')[0])).toEqual(['node', '--enable-source-maps', 'main.js']);
  });

  it('runs tini as PID 1 (a static binary copied from its own stage)', () => {
    expect(jsonArray(ofKind(runtime, 'ENTRYPOINT')[0])).toEqual(['/usr/bin/tini', '--']);
    expect(ofKind(runtime, 'COPY').map(line)).toContain('--from=tini /usr/bin/tini-static /usr/bin/tini');
    expect(ofKind(stage('tini'), 'RUN').map(args).join(' ')).toMatch(/apt-get install -y --no-install-recommends tini/);
  });

  it("has a HEALTHCHECK on /health/ready at each service's default port (the apps' config schemas)", () => {
    const healthcheck = ofKind(runtime, 'HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    expect(args(healthcheck[0] as Instruction)).toMatch(/CMD \["node", "\/app\/healthcheck.cjs"\]$/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DEFAULT_PORTS } = require('./docker/healthcheck.cjs') as { DEFAULT_PORTS: Record<string, number> };
    expect(DEFAULT_PORTS).toEqual(Object.fromEntries(SERVICE_NAMES.map((s) => [s, defaultPort(s)])));
    expect(readFileSync(join(repoRoot, 'deploy/docker/healthcheck.cjs'), 'utf8')).toContain('/health/ready');
  });

  it("bakes an app's rules folder into its image at /app/rules (fraud-check's RULES_FILE)", () => {
    const build = ofKind(stage('build'), 'RUN').map(args).join('\n');
    expect(build).toContain('cp -R "apps/${APP}/rules" /out/rules');
    expect(existsSync(join(repoRoot, 'apps/fraud-check/rules/ruleset.json'))).toBe(true);
  });

  it('keeps local installs, builds, keys and run state out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.payrail', 'keys', '.git', '.nx']) expect(ignored).toContain(entry);
  });
});
