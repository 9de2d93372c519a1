// swagger-ui-dist ships no types; this is the one function of it the service calls.
declare module 'swagger-ui-dist/absolute-path.js' {
  /** The package's folder on disk: the browser assets (swagger-ui-bundle.js, swagger-ui.css, …). */
  function getAbsoluteFSPath(): string;
  export = getAbsoluteFSPath;
}
