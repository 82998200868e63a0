// Regenerates docs/fraud-check-admin.openapi.yaml. Run from the workspace root:
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register apps/fraud-check/src/admin/write-openapi.ts
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OPENAPI_DOCUMENT_PATH, renderAdminOpenApi } from './openapi';

export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..');

if (require.main === module) {
  writeFileSync(join(WORKSPACE_ROOT, OPENAPI_DOCUMENT_PATH), renderAdminOpenApi());
  process.stdout.write(`wrote ${OPENAPI_DOCUMENT_PATH}\n`);
}
