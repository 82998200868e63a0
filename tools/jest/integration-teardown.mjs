// globalTeardown of the integration layer: see integration-keys.mjs.
export { teardown as default } from './integration-keys.mjs';
