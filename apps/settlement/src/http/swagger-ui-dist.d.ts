// swagger-ui-dist ships no types; the one function used here.
declare module 'swagger-ui-dist' {
  /** The directory holding swagger-ui.css, swagger-ui-bundle.js and the other UI assets. */
  export function absolutePath(): string;
}
