/**
 * Preloaded with `node --import <this file>` by the module-loading guard test: records every
 * module the process loads and writes the list, one file URL or path per line, to the file
 * named by MODULE_RECORD_FILE when the process exits.
 *
 * Two sources, because neither sees everything: an ESM `resolve` hook (on the loader thread)
 * sees every `import` and `import()`, and `require.cache` holds every CommonJS file, including
 * those that packages load from inside with `require` (which no ESM hook sees on Node 20).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const recordFile = process.env['MODULE_RECORD_FILE'];
if (recordFile !== undefined && recordFile !== '') {
  writeFileSync(recordFile, '');
  register(new URL('./module-recorder-hooks.js', import.meta.url), { data: { recordFile } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const cjs = Object.keys(require.cache);
    if (cjs.length > 0) appendFileSync(recordFile, `${cjs.join('\n')}\n`);
  });
}
