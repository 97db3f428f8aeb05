import type { AddonFileLoad, loadAddonFile as loadFromPackage } from '../../src/native-file.js';
import { loadSeaAddon } from './assets.js';

/**
 * The standalone executable's stand-in for src/native-file.ts (swapped in by
 * scripts/sea/build.ts): the hardening addon is one of the executable's own assets, so there is
 * no package directory to search and nothing to rebuild.
 */
export const HARDENING_ASSET = 'roles_anywhere_native.node';

export const loadAddonFile: typeof loadFromPackage = (): AddonFileLoad => {
  try {
    return { exports: loadSeaAddon(HARDENING_ASSET), path: HARDENING_ASSET };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
};
