import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catalogInstaller, findOs, loadCatalogs } from '../../src/catalog/load.js';
import { FAMILY_IDS, FAMILY_INSTALLERS, INSTALLER_IDS, PACKAGE_INSTALLER_IDS } from '../../src/catalog/families.js';
import { FamilySchema, InstallerSchema, OsEntrySchema } from '../../src/catalog/schema.js';
import { FAMILIES } from '../../src/families/registry.js';
import { dnfArgv, type DnfPrivate } from '../../src/installers/dnf/index.js';
import { INSTALLERS, installerFor } from '../../src/installers/registry.js';
import { yumInstaller } from '../../src/installers/yum/index.js';

const PRIV: DnfPrivate = { config: '/p/dnf.conf', reposDir: '/p/repos.d', cacheDir: '/c/rpms' };

describe('the installer and family ids: one table', () => {
  it('the schema enums, the family rows and the installer rows are the id table', () => {
    assert.deepEqual(InstallerSchema.options, [...INSTALLER_IDS]);
    assert.deepEqual(FamilySchema.options, [...FAMILY_IDS]);
    assert.deepEqual(Object.keys(FAMILIES), [...FAMILY_IDS]);
    assert.deepEqual(Object.keys(INSTALLERS), [...PACKAGE_INSTALLER_IDS]);
    for (const id of PACKAGE_INSTALLER_IDS) assert.equal(installerFor(id)?.id, id);
    for (const family of FAMILY_IDS) assert.equal(FAMILIES[family].configurator.id, family);
  });

  it('every family whose root is a layer has an installer row for each installer its OS entries may name', () => {
    for (const family of FAMILY_IDS) {
      const missing = FAMILIES[family].root.kind === 'layer' ? FAMILY_INSTALLERS[family].filter((i) => installerFor(i) === undefined) : [];
      assert.deepEqual(missing, [], `${family}: installers without a row`);
    }
  });
});

describe('yum: the RPM installer with yum as its program', () => {
  const rocky = findOs(loadCatalogs({ env: {} }), 'rocky9-64');

  it('runs yum with dnf\'s options, and checks for yum on the host', () => {
    assert.ok(rocky, 'rocky9-64 is in the OS table');
    const argv = dnfArgv({ os: rocky, mirror: 'http://mirror.example/rocky', packages: ['bash'] }, '/r', ['bash'], PRIV, 'yum');
    const dnf = dnfArgv({ os: rocky, mirror: 'http://mirror.example/rocky', packages: ['bash'] }, '/r', ['bash'], PRIV);
    assert.deepEqual(argv, dnf.map((a) => (a === 'dnf' ? 'yum' : a)));
    assert.deepEqual(yumInstaller.hostTools, ['yum', 'rpm', 'unshare', 'mknod']);
  });

  it('an OS entry naming yum is valid, and its apps come from the catalog\'s dnf entries', () => {
    assert.ok(rocky, 'rocky9-64 is in the OS table');
    const entry = OsEntrySchema.parse({ ...rocky, id: 'rocky9-yum', installer: 'yum' });
    assert.equal(catalogInstaller(entry), 'dnf');
    assert.equal(installerFor(entry.installer), yumInstaller);
  });
});
