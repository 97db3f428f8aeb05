/**
 * `node --import <this file>`: records the URL of every module the process loads into the file
 * named by TRACE_IMPORTS_FILE, so a test can prove what a command did NOT load. The hooks run
 * on Node's loader thread (module.register), hence a file and not stderr.
 */
import { register } from 'node:module';

register(new URL('./trace-imports-hooks.js', import.meta.url));
