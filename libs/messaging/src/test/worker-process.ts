// Runs settlement-worker.ts as a real child process (TypeScript through @swc-node/register, as the tests do) and
// follows the JSON lines it reports.
import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../../..');
const WORKER = join(__dirname, 'settlement-worker.ts');

export interface WorkerLine {
  worker?: string;
  event: string;
  at: number;
  [detail: string]: unknown;
}

export class WorkerProcess {
  readonly lines: WorkerLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private stderr = '';
  private partial = '';
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', WORKER], {
      cwd: repoRoot,
      env: { ...process.env, SWC_NODE_PROJECT: join(repoRoot, 'tsconfig.base.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(line) as WorkerLine);
        } catch {
          this.stderr += `${line}\n`;
        }
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4_000)));
    this.exited = new Promise((resolveExit) => this.child.once('exit', (code, signal) => resolveExit({ code, signal, at: Date.now() })));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  count(event: string): number {
    return this.lines.filter((l) => l.event === event).length;
  }

  /** The first line (already seen or to come) that matches, or an error with the worker's output. */
  async waitFor(event: string, timeoutMs: number, match: (line: WorkerLine) => boolean = () => true): Promise<WorkerLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => l.event === event && match(l));
      if (line) return line;
      if (!this.running) throw new Error(`worker exited before "${event}"; output:\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`worker did not report "${event}" within ${timeoutMs} ms; output:\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  output(): string {
    const tail = this.lines.filter((l) => l.event !== 'duplicate').slice(-20).map((l) => JSON.stringify(l)).join('\n');
    return `${tail}\n${this.stderr}`;
  }
}
