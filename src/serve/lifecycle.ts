/**
 * Moved: the refresher wiring to src/credentials/service-refresher.ts (used by serve and
 * update alike), the process concerns (operator log, shutdown signal) to src/cli/process.ts.
 * The refresher is re-exported so that code written against this path still compiles.
 */
export { createServiceRefresher, startOrRelease, type RefreshTuning, type ServiceRefresherOptions } from '../credentials/service-refresher.js';
