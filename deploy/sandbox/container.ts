// A container without a container engine, for machines where no Docker engine answers (this project's CI): a
// process gets a root filesystem of its own built from image layers with overlayfs, the volumes its descriptor
// mounts, a tmpfs /tmp, a numeric user, and nothing else of the host's files but the base layer. It needs root (or
// CAP_SYS_ADMIN) for the mount namespace; `unshare`, `mount` and `chroot` come from util-linux/coreutils.
//
// What stands in for what:
//   - the base image (`FROM node:...`) is the host's own root filesystem, the bottom overlay layer: the same Debian
//     family and a Node.js that runs Payrail (20 here, 24 in the published images);
//   - each Dockerfile instruction's result is one overlay layer (a directory, whiteouts included), stacked in order;
//   - a read-only root is an overlay with no upper directory; a RUN step's root is writable into its new layer.
// The container has its own PID namespace: its entrypoint (tini, in Payrail's images) is PID 1 there, as in a
// container, and `signal()` reaches it as `docker stop` / the kubelet would. Its mounts and processes vanish with it.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';

export interface VolumeMount {
  /** Absolute path inside the container. */
  target: string;
  /** Host file or directory mounted there. */
  source: string;
  readOnly: boolean;
}

export interface ContainerSpec {
  /** Image layers, bottom first (the host root filesystem is always below them). */
  layers: readonly string[];
  /** A writable layer receiving every change (a build step); absent: the root filesystem is read-only. */
  upper?: string;
  workdir: string;
  env: Readonly<Record<string, string>>;
  /** `uid:gid`, numeric; absent: root. */
  user?: string;
  /** Supplementary groups (Kubernetes fsGroup), numeric. */
  groups?: readonly number[];
  argv: readonly string[];
  volumes?: readonly VolumeMount[];
  /** Paths given a fresh tmpfs (an emptyDir with medium Memory, compose's `tmpfs:`). */
  tmpfs?: readonly string[];
  /** /etc/hosts of the container (name -> address), as a cluster DNS or compose's network would answer. */
  hosts?: Readonly<Record<string, string>>;
  /**
   * Host caches seen copy-on-write (an overlay whose upper layer is thrown away with the container): a build step
   * reads what is cached (npm's tarballs, checked against the lock's integrity hashes either way) and nothing it
   * writes or deletes (`npm cache clean`) reaches the host's cache.
   */
  caches?: readonly VolumeMount[];
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Checks once that this machine can run containers this way; throws saying why not. */
export function assertContainersSupported(): void {
  if (process.platform !== 'linux') throw new Error('containers without an engine need Linux (overlayfs, mount namespaces)');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('containers without an engine need root (mount namespaces and overlayfs); run as root or where a Docker engine answers');
  }
  const probe = mkdtempSync(join(tmpdir(), 'payrail-ovl-'));
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(probe, d));
    const res = spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-ec', `mount -t overlay overlay -o lowerdir=${probe}/lower:/,upperdir=${probe}/upper,workdir=${probe}/work ${probe}/merged && test -x ${probe}/merged/bin/sh`], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`overlayfs in a mount namespace is refused here: ${(res.stderr || res.error?.message || '').trim()}`);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * The shell script that builds the container's root and execs the command in it. The mount points of volumes and
 * tmpfs are created in a layer of their own (`mountpoints`), since a read-only root cannot create them.
 */
/** A path inside the container: absolute and already normal (no `..`, no `//`), so it cannot leave the scratch root. */
function containerPath(path: string, what: string): string {
  if (!posix.isAbsolute(path) || posix.normalize(path) !== path || path.includes('\0')) throw new Error(`${what} must be an absolute, normalised path: ${JSON.stringify(path)}`);
  return path;
}

/** Device nodes a container gets (Docker's set less the terminal ones), bound from the host's. */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

function setupScript(spec: ContainerSpec, scratch: string): string {
  if (spec.user !== undefined && !/^\d+(:\d+)?$/.test(spec.user)) throw new Error(`user must be numeric uid[:gid], got ${JSON.stringify(spec.user)}`);
  for (const v of [...(spec.volumes ?? []), ...(spec.caches ?? [])]) containerPath(v.target, 'a mount target');
  for (const t of spec.tmpfs ?? []) containerPath(t, 'a tmpfs path');
  containerPath(spec.workdir, 'the working directory');
  const root = join(scratch, 'root');
  const points = join(scratch, 'mountpoints');
  mkdirSync(root, { recursive: true });
  const volumes = spec.volumes ?? [];
  for (const c of spec.caches ?? []) mkdirSync(join(points, c.target), { recursive: true });
  for (const v of volumes) {
    const isDir = statSync(v.source, { throwIfNoEntry: false })?.isDirectory() ?? true;
    const at = join(points, v.target);
    if (isDir) mkdirSync(at, { recursive: true });
    else {
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, '');
    }
  }
  for (const t of spec.tmpfs ?? []) mkdirSync(join(points, t), { recursive: true });
  for (const d of ['proc', 'dev', 'etc']) mkdirSync(join(points, d), { recursive: true });
  if (spec.hosts) {
    const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...Object.entries(spec.hosts).map(([name, addr]) => `${addr} ${name}`)];
    writeFileSync(join(points, 'etc', 'hosts'), `${lines.join('\n')}\n`);
  }
  // overlayfs: the first lowerdir is the top-most
  const lowers = [points, ...[...spec.layers].reverse(), '/'].join(':');
  const options = spec.upper
    ? `lowerdir=${lowers},upperdir=${spec.upper},workdir=${join(scratch, 'work')}`
    : `lowerdir=${lowers}`;
  if (spec.upper) mkdirSync(join(scratch, 'work'), { recursive: true });
  const lines = [
    `mount -t overlay overlay -o ${q(options)} ${q(root)}`,
    `mount -t proc proc ${q(join(root, 'proc'))}`,
    // the kernel's knobs stay out of reach, as in Docker: /proc/sys read-only, no sysrq
    `mount --bind ${q(join(root, 'proc', 'sys'))} ${q(join(root, 'proc', 'sys'))}`,
    `mount -o remount,bind,ro ${q(join(root, 'proc', 'sys'))}`,
    `if [ -e ${q(join(root, 'proc', 'sysrq-trigger'))} ]; then mount --bind /dev/null ${q(join(root, 'proc', 'sysrq-trigger'))}; fi`,
    // a /dev of its own: the harmless devices only (no disks), shm, and the fd links
    `mount -t tmpfs -o mode=755,size=64k tmpfs ${q(join(root, 'dev'))}`,
    ...DEVICES.map((d) => `touch ${q(join(root, 'dev', d))} && mount --bind /dev/${d} ${q(join(root, 'dev', d))}`),
    `mkdir ${q(join(root, 'dev', 'shm'))} && mount -t tmpfs -o mode=1777,size=64m tmpfs ${q(join(root, 'dev', 'shm'))}`,
    `ln -s /proc/self/fd ${q(join(root, 'dev', 'fd'))}`,
    ...['stdin', 'stdout', 'stderr'].map((n, fd) => `ln -s /proc/self/fd/${fd} ${q(join(root, 'dev', n))}`),
  ];
  for (const t of spec.tmpfs ?? []) lines.push(`mount -t tmpfs -o mode=1777,size=64m tmpfs ${q(join(root, t))}`);
  (spec.caches ?? []).forEach((c, n) => {
    const upper = join(scratch, `cache-${n}`);
    mkdirSync(join(upper, 'upper'), { recursive: true });
    mkdirSync(join(upper, 'work'), { recursive: true });
    lines.push(`mount -t overlay overlay -o ${q(`lowerdir=${c.source},upperdir=${upper}/upper,workdir=${upper}/work`)} ${q(join(root, c.target))}`);
  });
  for (const v of volumes) {
    const at = q(join(root, v.target));
    lines.push(`mount --bind ${q(v.source)} ${at}`);
    if (v.readOnly) lines.push(`mount -o remount,bind,ro ${at}`);
  }
  const userspec = spec.user ? `--userspec=${q(spec.user)} --groups=${q((spec.groups ?? []).join(','))}` : '';
  // a root process keeps only Docker's default capabilities (no mount, no module loading, no raw devices)
  const capabilities = spec.user ? '' : '/usr/bin/setpriv --bounding-set=-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap --';
  // as Docker does for an image whose config sets no PATH
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...spec.env };
  const envArgs = Object.entries(env).map(([k, v]) => q(`${k}=${v}`)).join(' ');
  const argv = spec.argv.map(q).join(' ');
  // chroot, then cd to the working directory inside the new root, as the container's user
  lines.push(`exec chroot ${userspec} ${q(root)} ${capabilities} /usr/bin/env -i ${envArgs} /bin/sh -c ${q(`cd ${q(spec.workdir)} && exec "$@"`)} sh ${argv}`);
  return lines.join('\n');
}

export interface RunningContainer {
  /** The `unshare` process that waits for the container (it exits with the container's PID 1). */
  child: ChildProcess;
  /** Signals the container's PID 1 (its entrypoint). */
  signal(signal: NodeJS.Signals): void;
  /** Removes the scratch directory (call after the process ended). */
  dispose(): void;
}

/** Starts the container's process; its PID is the app's own. */
export function startContainer(spec: ContainerSpec, opts: { stdio?: StdioOptions; scratchParent?: string } = {}): RunningContainer {
  if (!posix.isAbsolute(spec.workdir)) throw new Error(`workdir must be absolute: ${spec.workdir}`);
  const scratch = mkdtempSync(join(opts.scratchParent ?? tmpdir(), 'payrail-ctr-'));
  const script = setupScript(spec, scratch);
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '/bin/sh', '-ec', script], { stdio: opts.stdio ?? 'inherit', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  return {
    child,
    signal: (sig) => {
      // PID 1 of the container is unshare's only child (the set-up shell exec'd into the entrypoint)
      let pid1: number | undefined;
      try {
        pid1 = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || undefined;
      } catch {
        /* gone */
      }
      try {
        if (pid1 !== undefined) process.kill(pid1, sig);
        else child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    },
    dispose: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** Runs the container's process to completion; resolves with its exit code (signals count as failures). */
export async function runContainer(spec: ContainerSpec, opts: { stdio?: StdioOptions; scratchParent?: string } = {}): Promise<number> {
  const running = startContainer(spec, opts);
  try {
    return await new Promise<number>((resolve, reject) => {
      running.child.once('error', reject);
      running.child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    running.dispose();
  }
}
