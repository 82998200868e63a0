// Executes the Dockerfile's instructions for real, without a Docker engine: each stage's RUN commands run in a
// container (deploy/sandbox/container.ts) whose root is the stage's layers so far, each COPY copies from a clean
// build context (git's files less .dockerignore) or from another stage's filesystem, and the result is an image:
// its layers and its config (ENV, WORKDIR, USER, ENTRYPOINT, CMD, HEALTHCHECK). Layers are cached by content within
// one run, as BuildKit caches them, so five apps share the dependency install of the build stage.
//
// What it does not do: pull the base image (the host root filesystem stands in for it, see container.ts), or
// support instructions the Payrail Dockerfile does not use (ADD, VOLUME, ONBUILD, SHELL, heredocs, COPY --chown
// or --link): those fail the build with the instruction's line, so the recipe cannot silently outgrow this check.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { Copy, DockerfileParser, Env, Label } from 'dockerfile-ast';
import { runContainer } from './container';

export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user?: string;
  entrypoint: string[];
  cmd: string[];
  healthcheck?: string[];
  stopSignal?: string;
  labels: Record<string, string>;
}

export interface BuiltImage {
  /** The FROM image the host root filesystem stood in for. */
  base: string;
  /** Layer directories, bottom first (the host root is below them). */
  layers: string[];
  config: ImageConfig;
}

interface StageState {
  name: string;
  base: string;
  layers: string[];
  /** Cache key of the stage's filesystem so far. */
  key: string;
  config: ImageConfig;
  args: Record<string, string>;
}

export interface BuildOptions {
  contextDir: string;
  dockerfile?: string;
  buildArgs: Record<string, string>;
  /** Where layers and the clean context go (a tmpfs: see container.ts). */
  workDir: string;
  log: (line: string) => void;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const sha = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);

/** Docker's variable substitution ($VAR, ${VAR}) for the instructions it applies to (not RUN: the shell does). */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) => vars[(a ?? b) as string] ?? '');
}

const unquote = (v: string): string => (/^".*"$/s.test(v) || /^'.*'$/s.test(v) ? v.slice(1, -1) : v);

/** A .dockerignore pattern as a regular expression on context-relative paths (Go filepath.Match plus `**`). */
export function dockerignoreMatcher(patterns: readonly string[]): (path: string) => boolean {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('#'))
    .map((p) => {
      const negate = p.startsWith('!');
      const body = posix.normalize((negate ? p.slice(1) : p).replace(/^\/+/, '')).replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < body.length; i++) {
        const c = body[i] as string;
        if (c === '*' && body[i + 1] === '*') {
          re += body[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += body[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      // a pattern that matches a directory excludes everything under it
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path) => {
    let excluded = false;
    for (const r of rules) if (r.re.test(path)) excluded = !r.negate;
    return excluded;
  };
}

/** The clean build context: the files git knows (tracked, or new and not ignored) less .dockerignore. */
export function cleanContext(contextDir: string, into: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: contextDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (listed.status !== 0) throw new Error(`git ls-files failed in ${contextDir}: ${listed.stderr}`);
  const ignorePath = join(contextDir, '.dockerignore');
  const ignored = dockerignoreMatcher(existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8').split('\n') : []);
  mkdirSync(into, { recursive: true });
  for (const file of listed.stdout.split('\0').filter((f) => f !== '')) {
    if (ignored(file) || !existsSync(join(contextDir, file))) continue;
    cpSync(join(contextDir, file), join(into, file), { preserveTimestamps: true, verbatimSymlinks: true });
  }
}

function hashTree(path: string): string {
  const h = createHash('sha256');
  const walk = (p: string, rel: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      h.update(`d:${rel}\n`);
      for (const e of readdirSync(p).sort()) walk(join(p, e), `${rel}/${e}`);
    } else {
      h.update(`f:${rel}:${st.mode & 0o777}\n`);
      h.update(readFileSync(p));
    }
  };
  walk(path, '');
  return h.digest('hex');
}

function parseJsonArray(text: string, where: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where}: expected a JSON array of strings (exec form)`);
  return value as string[];
}

/** Docker splits ENV/LABEL values on unquoted whitespace; dockerfile-ast gives the properties. */
function properties(i: Env | Label, vars: Record<string, string>): Array<[string, string]> {
  return i.getProperties().map((p) => [p.getName(), substitute(unquote(p.getValue() ?? ''), vars)]);
}

export class ImageBuilder {
  readonly #opts: BuildOptions;
  readonly #context: string;
  /** Layers by cache key, shared by every build of this builder (one run). */
  readonly #layers = new Map<string, string>();
  readonly #contextHashes = new Map<string, string>();

  constructor(opts: BuildOptions) {
    this.#opts = opts;
    this.#context = join(opts.workDir, 'context');
    cleanContext(opts.contextDir, this.#context);
    mkdirSync(join(opts.workDir, 'layers'), { recursive: true });
  }

  /** Builds the last stage (the runtime image) with the given build arguments. */
  async build(buildArgs: Record<string, string>): Promise<BuiltImage> {
    const text = readFileSync(join(this.#opts.contextDir, this.#opts.dockerfile ?? 'Dockerfile'), 'utf8');
    const parsed = DockerfileParser.parse(text);
    if (parsed.getDirectives().some((d) => d.getName() !== 'syntax')) throw new Error('Dockerfile: only the syntax parser directive is supported');
    const globalArgs: Record<string, string> = {};
    const stages = new Map<string, StageState>();
    let stage: StageState | undefined;
    for (const i of parsed.getInstructions()) {
      const keyword = i.getKeyword();
      const line = i.getRange().start.line + 1;
      const where = `Dockerfile:${line} ${keyword}`;
      const content = i.getArgumentsContent() ?? '';
      if (keyword === 'ARG') {
        const [name, def] = content.split(/=(.*)/s) as [string, string | undefined];
        const value = buildArgs[name] ?? (def !== undefined ? unquote(def) : stage ? globalArgs[name] : undefined) ?? '';
        if (stage) stage.args[name] = value;
        else globalArgs[name] = value;
        continue;
      }
      if (keyword === 'FROM') {
        const args = i.getArguments().map((a) => a.getValue());
        const image = substitute(args[0] ?? '', globalArgs);
        const name = args[1]?.toUpperCase() === 'AS' ? (args[2] ?? '') : String(stages.size);
        const parent = stages.get(image);
        stage = parent
          ? { ...parent, name, layers: [...parent.layers], config: structuredClone(parent.config), args: {} }
          : { name, base: image, layers: [], key: sha('base', image), config: { env: { PATH: DEFAULT_PATH }, workdir: '/', entrypoint: [], cmd: [], labels: {} }, args: {} };
        stages.set(name, stage);
        continue;
      }
      if (!stage) throw new Error(`${where}: before the first FROM`);
      const vars = { ...stage.args, ...stage.config.env };
      switch (keyword) {
        case 'WORKDIR': {
          const dir = posix.resolve(stage.config.workdir, substitute(content, vars));
          stage.config.workdir = dir;
          await this.#layer(stage, ['WORKDIR', dir], (layer) => {
            mkdirSync(join(layer, dir), { recursive: true });
          });
          break;
        }
        case 'ENV':
          for (const [k, v] of properties(i as Env, vars)) stage.config.env[k] = v;
          break;
        case 'LABEL':
          for (const [k, v] of properties(i as Label, vars)) stage.config.labels[unquote(k)] = v;
          break;
        case 'USER':
          stage.config.user = substitute(content, vars);
          break;
        case 'STOPSIGNAL':
          stage.config.stopSignal = content;
          break;
        case 'ENTRYPOINT':
          stage.config.entrypoint = parseJsonArray(content, where);
          break;
        case 'CMD':
          stage.config.cmd = parseJsonArray(content, where);
          break;
        case 'HEALTHCHECK': {
          const m = /^CMD\s+(\[.*\])$/s.exec(content);
          if (!m) throw new Error(`${where}: only HEALTHCHECK [options] CMD [exec form] is supported`);
          stage.config.healthcheck = parseJsonArray(m[1] as string, where);
          break;
        }
        case 'COPY':
          await this.#copy(stage, i as Copy, vars, stages, where);
          break;
        case 'RUN':
          // RUN --mount/--network/... and the exec form change what runs: refused rather than run differently
          if (/^\s*(--|\[)/.test(content)) throw new Error(`${where}: RUN flags and the exec form are not supported by the recipe check`);
          await this.#run(stage, content, where);
          break;
        default:
          throw new Error(`${where}: not supported by the recipe check (deploy/sandbox/image-build.ts)`);
      }
    }
    if (!stage) throw new Error('Dockerfile: no stage');
    return { base: stage.base, layers: stage.layers, config: stage.config };
  }

  /** Adds a layer made by `make` unless a layer of the same key exists already (this run's cache). */
  async #layer(stage: StageState, keyParts: string[], make: (layerDir: string) => void | Promise<void>): Promise<void> {
    const key = sha(stage.key, ...keyParts);
    let dir = this.#layers.get(key);
    if (dir === undefined) {
      dir = join(this.#opts.workDir, 'layers', key);
      mkdirSync(dir, { recursive: true });
      await make(dir);
      this.#layers.set(key, dir);
    }
    stage.layers.push(dir);
    stage.key = key;
  }

  async #copy(stage: StageState, i: Copy, vars: Record<string, string>, stages: Map<string, StageState>, where: string): Promise<void> {
    const flags = i.getFlags();
    if (flags.some((f) => f.getName() !== 'from')) throw new Error(`${where}: only --from is supported`);
    const fromName = i.getFromFlag()?.getValue() ?? undefined;
    const args = i.getArguments().map((a) => substitute(a.getValue(), vars));
    if (args.length < 2) throw new Error(`${where}: COPY needs a source and a destination`);
    const dest = args[args.length - 1] as string;
    const sources = args.slice(0, -1);
    if (sources.some((s) => /[*?[]/.test(s))) throw new Error(`${where}: wildcards in COPY sources are not supported`);
    const destAbs = posix.resolve(stage.config.workdir, dest);
    const intoDir = dest.endsWith('/') || dest === '.' || sources.length > 1;
    if (fromName !== undefined) {
      const from = stages.get(fromName);
      if (!from) throw new Error(`${where}: no stage ${fromName} before this line`);
      const key = ['COPY --from', from.key, ...sources, destAbs, String(intoDir)];
      await this.#layer(stage, key, async (layer) => {
        // the source stage's filesystem, read-only, copied out by cp inside a container of that stage
        // a directory's contents go to the destination; a file goes into it (several sources, or a trailing /) or
        // becomes it
        const script = sources
          .map((s) => {
            const asDir = posix.join('/.payrail-layer', destAbs);
            const asFile = posix.join('/.payrail-layer', intoDir ? posix.join(destAbs, basename(s)) : destAbs);
            return `if [ -d ${qs(s)} ]; then mkdir -p ${qs(asDir)} && cp -a ${qs(`${s.replace(/\/+$/, '')}/.`)} ${qs(asDir)}; else mkdir -p "$(dirname ${qs(asFile)})" && cp -a ${qs(s)} ${qs(asFile)}; fi`;
          })
          .join(' && ');
        const code = await runContainer({ layers: from.layers, workdir: '/', env: {}, argv: ['/bin/sh', '-ec', `${script} && chown -R 0:0 /.payrail-layer`], volumes: [{ source: layer, target: '/.payrail-layer', readOnly: false }] }, { scratchParent: this.#opts.workDir });
        if (code !== 0) throw new Error(`${where}: copying from stage ${fromName} failed (exit ${code})`);
      });
      return;
    }
    const contentHash = sources.map((s) => this.#hashContext(s, where)).join(',');
    await this.#layer(stage, ['COPY', ...sources, destAbs, String(intoDir), contentHash], (layer) => {
      for (const s of sources) {
        const src = join(this.#context, s);
        const target = join(layer, statSync(src).isDirectory() || !intoDir ? destAbs : posix.join(destAbs, basename(s)));
        // a directory source copies its contents (Docker's COPY semantics)
        cpSync(src, target, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      }
    });
  }

  #hashContext(source: string, where: string): string {
    const path = join(this.#context, source);
    if (!existsSync(path)) throw new Error(`${where}: ${source} is not in the build context (git's files less .dockerignore)`);
    let h = this.#contextHashes.get(source);
    if (h === undefined) {
      h = hashTree(path);
      this.#contextHashes.set(source, h);
    }
    return h;
  }

  async #run(stage: StageState, command: string, where: string): Promise<void> {
    const env = { ...stage.args, ...stage.config.env };
    await this.#layer(stage, ['RUN', command, JSON.stringify(env), stage.config.user ?? ''], async (layer) => {
      this.#opts.log(`${where}: ${command.length > 110 ? `${command.slice(0, 110)}...` : command}`);
      const npmCache = join(homedir(), '.npm');
      mkdirSync(npmCache, { recursive: true });
      const code = await runContainer(
        {
          layers: stage.layers,
          upper: layer,
          workdir: stage.config.workdir,
          env: { HOME: '/root', ...env },
          user: stage.config.user,
          argv: ['/bin/sh', '-c', command],
          // the npm download cache, as a BuildKit cache mount would keep it: the same registry's tarballs, checked
          // against the lock file's integrity hashes by npm either way
          caches: stage.config.user ? [] : [{ source: npmCache, target: '/root/.npm', readOnly: false }],
        },
        { stdio: ['ignore', 'inherit', 'inherit'], scratchParent: this.#opts.workDir },
      );
      if (code !== 0) throw new Error(`${where} failed with exit code ${code}`);
    });
  }
}

const qs = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

