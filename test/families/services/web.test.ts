import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../../src/catalog/load.js';
import { resolveSpec, type ResolvedSpec } from '../../../src/config/resolve.js';
import type { ResolvedSite } from '../../../src/config/resolve-services.js';
import { debianConfigurator } from '../../../src/families/debian/configure.js';
import { DEBIAN_WEB } from '../../../src/families/debian/services/web.js';
import { REDHAT_WEB } from '../../../src/families/redhat/services/web.js';
import { assertDocumentRoot, renderVhost, webPackages, webPlan } from '../../../src/families/linux/services/web.js';
import { loadConfig } from '../../../src/validate/load.js';
import { assertGoldenTree, guestPlanTree } from '../../helpers/golden.js';
import { includesAll, includesNone } from '../../helpers/assert-values.js';

const catalogs = loadCatalogs({ env: {} });
const LAB = fileURLToPath(new URL('../../fixtures/services/lab-router.conf', import.meta.url));

function labSpec(): ResolvedSpec {
  const loaded = loadConfig(readFileSync(LAB, 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`lab-router.conf does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/debian' });
}

const plain: ResolvedSite = { id: 'intranet', serverName: 'intranet.lab.example', aliases: [], root: '/srv/www/intranet', tls: false };
const secure: ResolvedSite = { id: 'lab', serverName: 'www.lab.example', aliases: ['lab.example', 'web.lab.example'], root: '/srv/www/lab', tls: true };

describe('web sites (golden)', () => {
  it('Debian: a vhost per site, the default site off, mod_ssl and the certificate for the TLS site', () => {
    assertGoldenTree('services/web/debian', guestPlanTree(webPlan([secure, plain], DEBIAN_WEB), webPackages([secure, plain], DEBIAN_WEB)));
  });
  it('RedHat: a conf.d file per site, mod_ssl installed, the certificate under /etc/pki', () => {
    assertGoldenTree('services/web/redhat', guestPlanTree(webPlan([secure, plain], REDHAT_WEB), webPackages([secure, plain], REDHAT_WEB)));
  });
});

describe('web sites', () => {
  it('a plain site has no HTTPS host and needs no TLS package or command', () => {
    const plan = webPlan([plain], DEBIAN_WEB);
    includesNone(plan.files[0]?.content ?? '', ['443', 'SSL']);
    assert.deepEqual(webPackages([plain], DEBIAN_WEB), []);
    assert.deepEqual(plan.commands.map((c) => c.argv[0]), ['a2dissite', 'a2ensite']);
  });

  it('no sites, no plan', () => {
    assert.deepEqual(webPlan([], DEBIAN_WEB), { files: [], links: [], commands: [] });
  });

  it('the certificate names the server name and every alias, and is made in the guest', () => {
    const openssl = webPlan([secure], REDHAT_WEB).commands.find((c) => c.argv[0] === 'openssl');
    assert.ok(openssl, 'no openssl command in the plan');
    includesAll(openssl.argv, ['/CN=www.lab.example', 'subjectAltName=DNS:www.lab.example,DNS:lab.example,DNS:web.lab.example']);
  });

  it('refuses a document root that would change the meaning of the vhost file', () => {
    for (const root of ['srv/www', '/srv/"x', '/srv/${HOME}', '/srv/a\\b', '/srv/a\nb']) {
      assert.throws(() => renderVhost({ ...plain, root }, DEBIAN_WEB), /document root/, `accepted ${JSON.stringify(root)}`);
    }
    assert.equal(assertDocumentRoot('/srv/www/my site'), '/srv/www/my site');
  });

  it('refuses a server name that is not a hostname', () => {
    assert.throws(() => renderVhost({ ...plain, serverName: 'a b' }, DEBIAN_WEB), /a b/);
  });

  it('the Debian configurator writes the lab\'s site, enables it and asks for openssl', () => {
    const ctx = { spec: labSpec(), nicOwner: 'target' as const };
    const plan = debianConfigurator.plan(ctx);
    includesAll(plan.files.map((f) => f.path), ['/etc/apache2/sites-available/vmgen-www.lab.example.conf']);
    includesAll(plan.commands.map((c) => c.argv.join(' ')), ['a2enmod -q ssl', 'a2ensite -q vmgen-www.lab.example']);
    includesAll(debianConfigurator.packages(ctx), ['openssl']);
  });
});
