import { createRequire } from 'node:module';
import type * as Commander from 'commander';

/**
 * commander, loaded with require(): it is CommonJS, and `import` of a CommonJS package goes
 * through its ESM wrapper and Node's export scanning, which costs about twice as much at start-up.
 * The CLI's files take commander's values from here; types still come from 'commander'.
 *
 * Where this file is bundled into CommonJS (the standalone executable), the literal
 * `require('commander')` is what lets the bundler see and include commander; as ESM, where
 * there is no `require`, createRequire provides one.
 */
const commander = (typeof require === 'function' ? require('commander') : createRequire(import.meta.url)('commander')) as typeof Commander;

export const { Command, Option, CommanderError } = commander;
