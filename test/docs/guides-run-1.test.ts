import t from 'tap';
import { defineGuideRuns } from './guide-runner.js';

/** The runnable blocks of README.md and docs/a* to docs/m* (see guide-runner.ts), run as written. */
defineGuideRuns(t, (name) => name < 'docs/n');
