// Regenerates docs/asyncapi.yaml and docs/events.md from the contracts. Run from the workspace root:
//   node -r @swc-node/register libs/contracts/src/lib/asyncapi/write-asyncapi.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ASYNCAPI_DOCUMENT_PATH, renderAsyncApiYaml } from './asyncapi';
import { EVENTS_DOCUMENT_PATH, renderEventsMarkdown } from './events-markdown';

/** The workspace root, found from this file's place in libs/contracts/src/lib/asyncapi. */
export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..', '..');

export function writeGeneratedDocs(root: string = WORKSPACE_ROOT): string[] {
  const outputs: [string, string][] = [
    [ASYNCAPI_DOCUMENT_PATH, renderAsyncApiYaml()],
    [EVENTS_DOCUMENT_PATH, renderEventsMarkdown()],
  ];
  for (const [path, content] of outputs) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return outputs.map(([path]) => path);
}

if (require.main === module) {
  for (const path of writeGeneratedDocs()) process.stdout.write(`wrote ${path}\n`);
}
