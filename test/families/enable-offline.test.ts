import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enableOffline } from '../../src/families/linux/enable-offline.js';
import { enableLinks, offlineBlocker, parseInstallSection, unitName } from '../../src/families/linux/unit-install.js';
import type { SystemdEnable } from '../../src/families/types.js';

// The links are systemd's own (src/shared/install.c): WantedBy= in TARGET.wants, RequiredBy= in
// TARGET.requires, UpheldBy= in TARGET.upholds, Alias= as the alias itself, all below
// /etc/systemd/system and all pointing at the path the unit file was found at. The Debian 12
// expectations are what `systemctl enable nftables ssh apache2` made in a bookworm root:
// sysinit.target.wants/nftables.service -> /lib/systemd/system/nftables.service and nothing for
// ssh and apache2, which their packages had enabled already.

const NFTABLES = `[Unit]
Description=nftables
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/usr/sbin/nft -f /etc/nftables.conf

[Install]
WantedBy=sysinit.target
`;

const SSH = `[Unit]
Description=OpenBSD Secure Shell server

[Service]
ExecStart=/usr/sbin/sshd -D $SSHD_OPTS

[Install]
WantedBy=multi-user.target
Alias=sshd.service
`;

describe('parseInstallSection', () => {
  it('reads the list settings of [Install] only, with comments, continuations and resets', () => {
    const s = parseInstallSection(`[Unit]
WantedBy=not-this.target
# WantedBy=commented.target
[Install]
; also a comment
WantedBy=a.target \\
  b.target
RequiredBy=c.target
RequiredBy=
RequiredBy=d.target
UpheldBy=e.target
Alias=x.service y.service
Also=other.socket
`);
    assert.deepEqual(s, {
      wantedBy: ['a.target', 'b.target'], requiredBy: ['d.target'], upheldBy: ['e.target'],
      alias: ['x.service', 'y.service'], also: ['other.socket'], unsupported: [],
    });
  });

  it('names what it does not reproduce: DefaultInstance= and specifiers', () => {
    assert.deepEqual(parseInstallSection('[Install]\nDefaultInstance=tty1\nWantedBy=%i.target\n').unsupported, ['DefaultInstance', 'WantedBy with a specifier']);
  });
});

describe('enableLinks and offlineBlocker', () => {
  it('makes one link per target and alias, to the path the unit was found at', () => {
    assert.deepEqual(enableLinks('ssh.service', '/lib/systemd/system/ssh.service', parseInstallSection(SSH)), [
      { path: '/etc/systemd/system/multi-user.target.wants/ssh.service', target: '/lib/systemd/system/ssh.service' },
      { path: '/etc/systemd/system/sshd.service', target: '/lib/systemd/system/ssh.service' },
    ]);
  });

  it('leaves templates and unhandled settings to systemctl', () => {
    assert.match(offlineBlocker('getty@.service', parseInstallSection('[Install]\nWantedBy=getty.target\n')) ?? '', /template/);
    assert.match(offlineBlocker('x.service', parseInstallSection('[Install]\nDefaultInstance=a\n')) ?? '', /DefaultInstance/);
    assert.match(offlineBlocker('x.service', parseInstallSection('[Install]\nWantedBy=../../etc/evil\n')) ?? '', /not a plain unit name/);
    assert.equal(offlineBlocker('x.service', parseInstallSection(NFTABLES)), undefined, 'a plain unit is handled');
  });

  it('takes a bare name for a service, as systemctl does', () => {
    assert.equal(unitName('ssh'), 'ssh.service');
    assert.equal(unitName('fstrim.timer'), 'fstrim.timer');
  });
});

/** A guest root as a map: files by path, links by path; /lib is a link to usr/lib as on Debian 12. */
function fakeGuest(files: Record<string, string>, links: Record<string, string> = {}) {
  const made: Array<{ target: string; path: string }> = [];
  const canon = (p: string): string => p.replace(/^\/lib\//, '/usr/lib/');
  return {
    made,
    links,
    guest: {
      async readFile(p: string): Promise<Buffer> {
        const text = files[canon(p)];
        if (text === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
        return Buffer.from(text);
      },
      async readLink(p: string): Promise<string | undefined> {
        return links[p];
      },
      async symlink(target: string, path: string): Promise<void> {
        made.push({ target, path });
        links[path] = target;
      },
    },
  };
}

const DEBIAN: SystemdEnable['vendorDirs'] = [
  { dir: '/lib/systemd/system', when: { file: '/var/lib/dpkg/info/systemd.list', line: '/lib/systemd/system' } },
  { dir: '/usr/lib/systemd/system' },
];

describe('enableOffline', () => {
  const bookworm = {
    '/var/lib/dpkg/info/systemd.list': '/.\n/lib\n/lib/systemd\n/lib/systemd/system\n',
    '/usr/lib/systemd/system/nftables.service': NFTABLES,
    '/usr/lib/systemd/system/ssh.service': SSH,
    '/etc/init.d/ssh': '#!/bin/sh\n',
  };

  it('links an unlinked unit as Debian 12 systemctl does and leaves an enabled one alone', async () => {
    const g = fakeGuest(bookworm, {
      '/etc/systemd/system/multi-user.target.wants/ssh.service': '/lib/systemd/system/ssh.service',
      '/etc/systemd/system/sshd.service': '/lib/systemd/system/ssh.service',
    });
    const r = await enableOffline(g.guest, { units: ['nftables', 'ssh'], vendorDirs: DEBIAN });
    assert.deepEqual(g.made, [{ path: '/etc/systemd/system/sysinit.target.wants/nftables.service', target: '/lib/systemd/system/nftables.service' }]);
    assert.deepEqual(r.already, ['ssh.service']);
    assert.deepEqual(r.leftover, []);
  });

  it('links to /usr/lib/systemd/system when systemd is not a split-usr build (Debian 13)', async () => {
    const g = fakeGuest({ ...bookworm, '/var/lib/dpkg/info/systemd.list': '/.\n/usr\n/usr/lib/systemd/system\n' });
    await enableOffline(g.guest, { units: ['nftables'], vendorDirs: DEBIAN });
    assert.deepEqual(g.made.map((l) => l.target), ['/usr/lib/systemd/system/nftables.service']);
  });

  it('prefers a unit file in /etc/systemd/system, and follows Also=', async () => {
    const g = fakeGuest({
      ...bookworm,
      '/etc/systemd/system/vmgen-raw-rules.service': '[Install]\nWantedBy=multi-user.target\nAlso=nftables.service\n',
    });
    const r = await enableOffline(g.guest, { units: ['vmgen-raw-rules'], vendorDirs: DEBIAN });
    assert.deepEqual(g.made, [
      { path: '/etc/systemd/system/multi-user.target.wants/vmgen-raw-rules.service', target: '/etc/systemd/system/vmgen-raw-rules.service' },
      { path: '/etc/systemd/system/sysinit.target.wants/nftables.service', target: '/lib/systemd/system/nftables.service' },
    ]);
    assert.deepEqual(r.leftover, []);
  });

  it('leaves to systemctl what it cannot reproduce, and writes nothing for those', async () => {
    const g = fakeGuest({
      ...bookworm,
      '/usr/lib/systemd/system/getty@.service': '[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n',
      '/usr/lib/systemd/system/busy.service': '[Install]\nAlias=taken.service\n',
      '/etc/systemd/system/taken.service': '[Service]\n',
    }, { '/etc/systemd/system/masked.service': '/dev/null' });
    const r = await enableOffline(g.guest, { units: ['ssh', 'missing', 'masked', 'getty@', 'busy'], vendorDirs: DEBIAN });
    assert.deepEqual(r.leftover.map((l) => l.unit), ['ssh.service', 'missing.service', 'masked.service', 'getty@.service', 'busy.service']);
    assert.match(r.leftover[0]!.why, /SysV init script/, 'ssh is not enabled yet and has an init script: update-rc.d is systemctl\'s to run');
    assert.match(r.leftover[2]!.why, /is a link/);
    assert.match(r.leftover[4]!.why, /taken\.service exists/);
    assert.deepEqual(g.made, []);
  });

  it('searches /usr/lib alone on Fedora and EL', async () => {
    const g = fakeGuest({ '/usr/lib/systemd/system/sshd.service': '[Install]\nWantedBy=multi-user.target\n' });
    await enableOffline(g.guest, { units: ['sshd'], vendorDirs: [{ dir: '/usr/lib/systemd/system' }] });
    assert.deepEqual(g.made, [{ path: '/etc/systemd/system/multi-user.target.wants/sshd.service', target: '/usr/lib/systemd/system/sshd.service' }]);
  });
});
