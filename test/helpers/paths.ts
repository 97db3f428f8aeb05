export { buildRoot, cliPath, repoRoot } from '../../scripts/paths.js';
