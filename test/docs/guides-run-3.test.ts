import t from 'tap';
import { defineGuideRuns } from './guide-runner.js';

/** The runnable blocks of docs/so* to docs/z* (see guide-runner.ts), run as written. */
defineGuideRuns(t, (name) => name >= 'docs/so');
