import type { FamilyId } from '../catalog/families.js';
import { debianFamily } from './debian/index.js';
import type { Family } from './family.js';
import { redhatFamily } from './redhat/index.js';
import { windowsFamily } from './windows/index.js';

/** Every OS family vmgen builds, one line each; keyed by the OS table's `family`. */
export const FAMILIES: Record<FamilyId, Family> = {
  debian: debianFamily,
  redhat: redhatFamily,
  windows: windowsFamily,
};

export function familyOf(os: { family: FamilyId }): Family {
  return FAMILIES[os.family];
}
