/** What dist/core.js exports (src/core.ts). */
export type CoreModule = typeof import('../core');

/**
 * Loads dist/core.js, the second bundle beside dist/extension.js (esbuild.mjs keeps `./core.js` external to the
 * entry). A plain require: the extension host's module loader, cached after the first call.
 */
export function loadCore(): CoreModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a sibling bundle loaded on first need
  return require('./core.js') as CoreModule;
}
