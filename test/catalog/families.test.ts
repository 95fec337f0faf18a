import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG_KEYS, FAMILY_IDS, INSTALLER_IDS, isPackageInstaller, isWindows, kernelOf, readsAptSources } from '../../src/catalog/families.js';

describe('facts of the family and installer id tables', () => {
  it('gives each family the kernel its guests run', () => {
    assert.deepEqual(FAMILY_IDS.map((family) => [family, kernelOf({ family }), isWindows({ family })]), [
      ['debian', 'linux', false],
      ['redhat', 'linux', false],
      ['windows', 'windows', true],
    ]);
  });
  it('knows which installers read apt sources and which install packages', () => {
    assert.deepEqual(INSTALLER_IDS.filter(readsAptSources), ['apt']);
    assert.deepEqual(INSTALLER_IDS.filter(isPackageInstaller), ['apt', 'dnf', 'yum']);
  });
  it('lists the app catalog keys once each, with the installers reading them', () => {
    assert.deepEqual(CATALOG_KEYS, [
      { key: 'apt', installers: ['apt'] },
      { key: 'dnf', installers: ['dnf', 'yum'] },
      { key: 'windows-kits', installers: ['windows-kits'] },
    ]);
  });
});
