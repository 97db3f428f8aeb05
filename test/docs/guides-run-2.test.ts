import t from 'tap';
import { defineGuideRuns } from './guide-runner.js';

/** The runnable blocks of docs/n* to docs/sn* (see guide-runner.ts), run as written. */
defineGuideRuns(t, (name) => name >= 'docs/n' && name < 'docs/so');
