// globalSetup of the integration layer: see integration-keys.mjs.
export { setup as default } from './integration-keys.mjs';
