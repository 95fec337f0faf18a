import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { planBuild } from '../../src/orchestrator/plan.js';
import { planFiles } from '../../src/orchestrator/plan-files.js';
import { findTarget } from '../../src/targets/registry.js';

const catalogs = loadCatalogs({ env: {} });
const path = (rel: string): string => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

function plan(rel: string, target: string) {
  const config = loadConfig(readFileSync(path(rel), 'utf8'), { catalogs, target: findTarget(target)! }).config;
  assert.notEqual(config, undefined, `${rel} loads`);
  return planBuild(config!, catalogs, target, { defaultMirror: 'http://mirror.example/debian' });
}

describe('planFiles: a build plan as files for review', () => {
  it('a Linux VM: the target files, the fstab of its disks, the guest files, commands, packages and plan.json', () => {
    const p = plan('examples/debian-web.conf', 'qemu');
    const files = planFiles(p);
    const paths = [...files.keys()];
    for (const want of ['target/partitions/fstab', 'guest-commands.txt', 'packages.txt', 'plan.json']) assert.equal(paths.includes(want), true, `${want} in ${paths.join(', ')}`);
    assert.deepEqual(paths.filter((f) => f.startsWith('target/') && f !== 'target/partitions/fstab'), p.targetRender.archiveFiles.map((f) => `target/${f.path}`));
    const summary = JSON.parse(files.get('plan.json')!) as { steps: Array<{ name: string; tools: string[]; skipped: boolean }>; tools: string[]; needsRoot: boolean };
    assert.deepEqual(summary.steps.map((s) => s.name), p.steps.map((s) => s.name));
    assert.deepEqual(summary.tools, p.tools);
    assert.equal(summary.needsRoot, true);
    assert.match(files.get('packages.txt')!, /^nftables$/m);
  });

  it('a container has no disks: no fstab of them', () => {
    const paths = [...planFiles(plan('examples/debian-web.conf', 'lxc')).keys()];
    assert.deepEqual(paths.filter((f) => f.startsWith('target/partitions/')), []);
  });

  it("Windows: the family's review files and its configurator's plan stand for the layer; no Linux fstab", () => {
    const p = plan('test/fixtures/windows/winxp-seed.conf', 'vmware');
    const files = planFiles(p);
    const paths = [...files.keys()];
    for (const f of p.reviewFiles()) assert.equal(files.get(f.path), f.content, f.path);
    assert.equal(paths.includes('guest/vmgen/config.bat'), true, paths.join(', '));
    assert.equal(paths.includes('target/partitions/fstab'), false, paths.join(', '));
  });
});

describe('planFiles: configured services', () => {
  it('shows the site, the database setup unit and its SQL, with the passwords redacted', () => {
    const files = planFiles(plan('test/fixtures/services/webdb.conf', 'lxc'));
    const vhost = files.get('guest/etc/apache2/sites-available/vmgen-shop.lab.example.conf') ?? '';
    assert.match(vhost, /ServerAlias www\.shop\.lab\.example/);
    assert.match(files.get('guest/etc/systemd/system/vmgen-database-setup.service') ?? '', /After=mariadb\.service/);
    const sql = files.get('guest/etc/vmgen/database-setup.sql') ?? '';
    assert.match(sql, /CREATE USER IF NOT EXISTS 'shop'@'localhost' IDENTIFIED BY <redacted>;/);
    assert.doesNotMatch([...files.values()].join('\n'), /s3cret-pw/);
    assert.match(files.get('guest-commands.txt') ?? '', /^a2ensite -q vmgen-shop\.lab\.example$/m);
    assert.match(files.get('packages.txt') ?? '', /^openssl$/m);
  });
});
