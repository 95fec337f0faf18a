import assert from 'node:assert/strict';
import { someItem } from '../helpers/assert-values.js';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultCacheRoot } from '../../src/cache/store.js';
import { run } from '../../src/exec/run.js';
import { hostMirror } from '../../src/installers/apt/mirror.js';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { redhatConfigurator } from '../../src/families/redhat/configure.js';
import { DRACUT_CONF, renderDracutConf } from '../../src/families/redhat/vm-kernel.js';
import { IS_ROOT, ROOT, lastLine, spawnCapture, vmgen } from './helpers.js';

/*
 * The RPM path for real: a dnf repository made here (rpmbuild, createrepo_c), `dnf --installroot`
 * through vmgen's dnf installer, then lxc and oci builds that `vmgen verify` boots and checks.
 * There is no Fedora mirror on these machines, and systemd, sshd, NetworkManager and firewalld
 * only exist here as Debian packages: the repository's payload is a Debian root file system
 * (mmdebstrap, from vmgen's .deb pool) packed as RPMs named as vmgen asks dnf for. So this tests
 * vmgen's dnf, NetworkManager and firewalld handling, not Fedora itself.
 *
 * The repository is cached under the vmgen cache, keyed by its inputs; a cold run makes it (about
 * a minute), a warm one reuses it.
 */
const CONFIG = join(ROOT, 'test', 'fixtures', 'rpm', 'redhat-web.conf');
/** A web and DNS server ([web], [dns]): built as a container only, from the same repository. */
const SERVICES = join(ROOT, 'test', 'fixtures', 'rpm', 'redhat-services.conf');
const SPEC = join(ROOT, 'test', 'fixtures', 'rpm', 'synthetic-root.spec');
const HOST_TOOLS = ['rpmbuild', 'createrepo_c', 'dnf', 'mmdebstrap'];

/**
 * The Debian packages whose files play the RedHat guest: what the configurator, the apps and verify
 * run. netbase gives /etc/protocols, which firewalld needs and Fedora's `setup` package always has.
 */
const TREE_DEBS = [
  'systemd', 'systemd-sysv', 'dbus', 'network-manager', 'firewalld', 'nftables', 'openssh-server', 'sudo', 'passwd',
  'iproute2', 'procps', 'hostname', 'tzdata', 'netbase', 'bash-completion', 'vim', 'git', 'apache2', 'rpm', 'perl-base',
  'udev', 'kmod', 'dosfstools', 'bind9', 'bind9-dnsutils', 'dns-root-data', 'curl',
];

/**
 * What plays kernel-core and dracut for VM guests: Debian's kernel and dracut, in a second payload
 * package so container guests do not carry the kernel's modules. Laid out as Fedora ships it
 * (/lib/modules/VERSION/vmlinuz, nothing made in /boot), so vmgen's own kernel step is what puts
 * the kernel and a dracut initramfs where the boot loader reads them.
 */
const KERNEL_DEBS = ['linux-image-amd64', 'dracut'];
const KERNEL_NAMES = ['kernel-core', 'dracut'];
const KERNEL_DPKG_LIST = /^(?:linux-image-[^:]+|dracut|dracut-core)(?::amd64)?\.list$/;

/** Fedora's unit names for what Debian calls otherwise; copies, since an alias cannot be enabled by its alias name. */
const UNIT_COPIES: Array<[fedora: string, debian: string]> = [['sshd.service', 'ssh.service'], ['httpd.service', 'apache2.service']];

function which(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, tool)));
}

const missing = HOST_TOOLS.filter((t) => !which(t));
const skip = !IS_ROOT ? 'needs root (mmdebstrap, dnf --installroot, lxc)' : missing.length > 0 ? `needs ${missing.join(', ')} (bash scripts/setup.sh)` : false;

const work = mkdtempSync(join(tmpdir(), 'vmgen-rh-'));
const out = join(work, 'out');
const archives: Record<string, string> = {};
let repo = '';

/** The package names vmgen asks dnf for, as `vmgen render` lists them: the repository must have exactly these. */
async function wantedNames(): Promise<string[]> {
  const names = new Set<string>();
  for (const [config, target] of [[CONFIG, 'lxc'], [CONFIG, 'oci'], [CONFIG, 'qemu'], [SERVICES, 'lxc']] as const) {
    const dir = join(mkdtempSync(join(work, 'render-')), target);
    const r = await vmgen(['render', config, '--target', target, '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
    for (const n of readFileSync(join(dir, 'packages.txt'), 'utf8').split('\n')) if (n) names.add(n);
  }
  return [...names].sort();
}

/** Makes (or finds in the cache) the synthetic repository; returns its directory. */
async function syntheticRepo(names: readonly string[]): Promise<string> {
  const mirror = process.env.VMGEN_MIRROR ?? hostMirror('debian');
  assert.ok(mirror, 'this test needs a Debian mirror: the host\'s apt sources or VMGEN_MIRROR');
  const key = createHash('sha256').update(JSON.stringify({
    spec: readFileSync(SPEC, 'utf8'), names, debs: TREE_DEBS, kernel: [KERNEL_DEBS, KERNEL_NAMES, KERNEL_DPKG_LIST.source, renderDracutConf()], units: UNIT_COPIES, mirror, v: 5,
  })).digest('hex').slice(0, 16);
  const cacheRoot = defaultCacheRoot();
  const parent = join(cacheRoot, 'test-rpm-repo');
  const dir = join(parent, key);
  if (existsSync(join(dir, 'repodata', 'repomd.xml'))) return dir;
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.tmp-${key}-`));
  try {
    const tree = join(tmp, 'tree');
    // vmgen's own dracut settings from the start, so Debian's kernel install makes its initrd in seconds.
    const files = join(tmp, 'files');
    mkdirSync(join(files, dirname(DRACUT_CONF)), { recursive: true });
    writeFileSync(join(files, DRACUT_CONF), renderDracutConf());
    await run(['unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
      'mmdebstrap', '--mode=root', '--variant=minbase', '--arch=amd64', `--include=${[...TREE_DEBS, ...KERNEL_DEBS].join(',')}`,
      '--aptopt=APT::Install-Recommends "false"', `--setup-hook=${ROOT}/libexec/debs-in`, `--setup-hook=${ROOT}/libexec/files-in`,
      `--customize-hook=${ROOT}/libexec/debs-out`, '--skip=download/empty', '--skip=essential/unlink', 'bookworm', tree, mirror],
    { env: { ...process.env, VMGEN_DEBS: join(cacheRoot, 'debs'), VMGEN_FILES: files } });
    const kernelTree = join(tmp, 'kernel-tree');
    splitKernel(tree, kernelTree);
    // Device nodes are the runtime's business; documentation only costs time.
    for (const d of ['dev', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale']) {
      rmSync(join(tree, d), { recursive: true, force: true });
      mkdirSync(join(tree, d));
    }
    // The guest's rpm (Debian's, here) reads the database where Fedora's does, where vmgen's dnf puts it.
    mkdirSync(join(tree, 'etc', 'rpm'), { recursive: true });
    writeFileSync(join(tree, 'etc', 'rpm', 'macros.dbpath'), '%_dbpath /usr/lib/sysimage/rpm\n');
    const units = join(tree, 'usr', 'lib', 'systemd', 'system');
    for (const [fedora, debian] of UNIT_COPIES) {
      writeFileSync(join(units, fedora), readFileSync(join(units, debian), 'utf8').replace(/^Alias=.*\n/gm, ''));
      // Debian enables services when it installs them, Fedora leaves that to the admin (vmgen).
      for (const link of [join('etc', 'systemd', 'system', fedora), join('etc', 'systemd', 'system', 'multi-user.target.wants', debian)]) {
        rmSync(join(tree, link), { force: true });
      }
    }
    playFedoraServices(tree);
    const top = join(tmp, 'rpmbuild');
    const rootNames = names.filter((n) => !KERNEL_NAMES.includes(n));
    await run(['rpmbuild', '--define', `_topdir ${top}`, '--define', `tree ${tree}`, '--define', `names ${rootNames.join(' ')}`,
      '--define', 'version 1', '-bb', SPEC]);
    await run(['rpmbuild', '--define', `_topdir ${top}`, '--define', `tree ${kernelTree}`, '--define', `names ${KERNEL_NAMES.join(' ')}`,
      '--define', 'payload vmgen-synthetic-kernel', '--define', 'payload_requires vmgen-synthetic-root', '--define', 'version 1', '-bb', SPEC]);
    const repoDir = join(tmp, 'repo');
    mkdirSync(repoDir);
    const rpms = join(top, 'RPMS', 'x86_64');
    for (const f of readdirSync(rpms)) copyFileSync(join(rpms, f), join(repoDir, f));
    await run(['createrepo_c', '-q', repoDir]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(repoDir, dir);
    // Repositories made from older inputs are not used again: only the newest is kept.
    for (const old of readdirSync(parent)) if (old !== key && !old.startsWith('.')) rmSync(join(parent, old), { recursive: true, force: true });
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Debian's BIND and Apache where Fedora's bind and httpd are: what Fedora's packages ship and
 * Debian's do not is faked in the payload, from Debian's own files where they exist. Fedora's named
 * runs as `named` and reads /etc/named.conf (its unit says -c), which includes files of the bind
 * package (the localhost zones, the root key, the root hints in /var/named) and of crypto-policies;
 * Debian's runs as `bind` and reads /etc/bind. The user is renamed (same ids), the unit gets
 * Fedora's command line, and Fedora's files are made from Debian's equivalents. Fedora's httpd reads
 * /etc/httpd/conf.d/*.conf and has no default site; Debian's apache2.conf is made to read that
 * directory and its 000-default site is switched off. Neither is enabled: Fedora leaves that to vmgen.
 */
function playFedoraServices(tree: string): void {
  const at = (...p: string[]): string => join(tree, ...p);
  const edit = (path: string, change: (text: string) => string): void => writeFileSync(path, change(readFileSync(path, 'utf8')));
  for (const db of ['passwd', 'group', 'shadow', 'gshadow']) edit(at('etc', db), (t) => t.replace(/^bind:/m, 'named:'));
  edit(at('usr', 'lib', 'tmpfiles.d', 'named.conf'), (t) => t.replace(/ bind /, ' named '));
  edit(at('usr', 'lib', 'systemd', 'system', 'named.service'), (t) => t
    .replace(/^EnvironmentFile=.*$/m, 'EnvironmentFile=-/etc/sysconfig/named')
    .replace(/^ExecStart=.*$/m, 'ExecStart=/usr/sbin/named -f -u named -c /etc/named.conf $OPTIONS')
    .replace(/^Alias=.*\n/m, ''));
  for (const link of ['etc/systemd/system/bind9.service', 'etc/systemd/system/multi-user.target.wants/named.service', 'etc/apache2/sites-enabled/000-default.conf']) {
    rmSync(at(link), { force: true });
  }
  // Fedora's bind owns these through its spec's %attr; the payload's files are all root's
  // (synthetic-root.spec's %defattr), so systemd-tmpfiles gives named its own at boot.
  for (const dir of ['var/named', 'var/named/data', 'var/named/dynamic']) mkdirSync(at(dir));
  writeFileSync(at('usr', 'lib', 'tmpfiles.d', 'vmgen-synthetic-named.conf'), [
    'd /var/named 0770 root named -', 'd /var/named/data 0770 named named -', 'd /var/named/dynamic 0770 named named -',
    'z /etc/bind/rndc.key 0640 root named -', '',
  ].join('\n'));
  // Debian's default zones less its root hint zone, which Fedora's named.conf declares itself.
  writeFileSync(at('etc', 'named.rfc1912.zones'), readFileSync(at('etc', 'bind', 'named.conf.default-zones'), 'utf8').replace(/^\/\/ prime[\s\S]*?^\};\n/m, ''));
  copyFileSync(at('etc', 'bind', 'bind.keys'), at('etc', 'named.root.key'));
  copyFileSync(at('usr', 'share', 'dns', 'root.hints'), at('var', 'named', 'named.ca'));
  mkdirSync(at('etc', 'crypto-policies', 'back-ends'), { recursive: true });
  writeFileSync(at('etc', 'crypto-policies', 'back-ends', 'bind.config'), '# Fedora\'s crypto-policies lists the algorithms BIND must not use; the test zones sign nothing.\n');
  mkdirSync(at('etc', 'httpd', 'conf.d'), { recursive: true });
  edit(at('etc', 'apache2', 'apache2.conf'), (t) => `${t}\n# Fedora's httpd reads its sites here (vmgen's synthetic repository).\nIncludeOptional /etc/httpd/conf.d/*.conf\n`);
}

/**
 * Moves the files dpkg lists for the kernel and dracut packages out of `tree` into `kernelTree`,
 * under their real paths (merged /usr: /lib/modules is /usr/lib/modules, and a /lib directory in
 * the second package would clash with the first's /lib link), with the kernel image where Fedora
 * has it. The initrd Debian's kernel install made is dropped: vmgen makes the guest's own.
 */
function splitKernel(tree: string, kernelTree: string): void {
  const info = join(tree, 'var', 'lib', 'dpkg', 'info');
  const lists = readdirSync(info).filter((f) => KERNEL_DPKG_LIST.test(f));
  assert.ok(lists.some((f) => f.startsWith('linux-image-')) && lists.some((f) => f.startsWith('dracut')), `kernel and dracut are in the tree: ${lists.join(' ')}`);
  let moved = 0;
  for (const list of lists) {
    for (const path of readFileSync(join(info, list), 'utf8').split('\n')) {
      if (path === '' || path === '/.') continue;
      const host = join(tree, path);
      // Directories stay, and so do links to them: with merged /usr, dpkg lists /lib, which is the root's link to usr/lib.
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (st === undefined || st.isDirectory() || (st.isSymbolicLink() && statSync(host, { throwIfNoEntry: false })?.isDirectory())) continue;
      const real = join(realpathSync(dirname(host)), basename(host));
      const target = join(kernelTree, relative(tree, real));
      mkdirSync(dirname(target), { recursive: true });
      renameSync(real, target);
      moved++;
    }
  }
  const boot = join(kernelTree, 'boot');
  const modules = relative(tree, realpathSync(join(tree, 'lib', 'modules')));
  for (const f of readdirSync(boot).filter((n) => n.startsWith('vmlinuz-'))) {
    renameSync(join(boot, f), join(kernelTree, modules, f.slice('vmlinuz-'.length), 'vmlinuz'));
  }
  for (const f of readdirSync(join(tree, 'boot')).filter((n) => n.startsWith('initrd.img-'))) rmSync(join(tree, 'boot', f));
  for (const link of ['vmlinuz', 'vmlinuz.old', 'initrd.img', 'initrd.img.old']) rmSync(join(tree, link), { force: true });
  assert.ok(moved > 100, `moved the kernel's files (${moved})`);
}

async function specOf(path: string): Promise<ResolvedSpec> {
  const catalogs = loadCatalogs({ env: {} });
  const loaded = loadConfig(readFileSync(path, 'utf8'), { catalogs });
  assert.ok(loaded.config, JSON.stringify(loaded.diagnostics));
  return resolveSpec(loaded.config, catalogs, { target: 'lxc', defaultMirror: `file://${repo}` });
}

async function buildOk(target: string, config = CONFIG): Promise<string> {
  const r = await vmgen(['build', config, '--target', target, '--out', out], { env: { VMGEN_MIRROR: `file://${repo}` } });
  assert.equal(r.code, 0, `build ${target} failed:\n${r.stderr}`);
  const archive = lastLine(r.stdout);
  assert.ok(existsSync(archive), `${archive} exists`);
  return archive;
}

/** What verify must report for this guest on any target. */
const GUEST_CHECKS = ['user caesar in group julius', 'password of caesar:',
  'package httpd: installed', 'package vim-enhanced: installed', 'package openssh-server: installed',
  'service firewalld active: active', 'service NetworkManager active: active', 'service sshd active: active', 'service httpd active: active',
  'firewall accepts tcp 22', 'firewall accepts tcp 80', 'firewall raw rules'];
const CONTAINER_CHECKS = [...GUEST_CHECKS, 'hostname (running): rhweb1'];

async function verifyOk(archive: string, runtime: RegExp, expect: readonly string[] = CONTAINER_CHECKS, config = CONFIG): Promise<string> {
  const r = await vmgen(['verify', archive, '--config', config], { env: { VMGEN_MIRROR: `file://${repo}` } });
  assert.equal(r.code, 0, `verify failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, runtime);
  assert.match(r.stdout, /^all \d+ checks passed$/m);
  for (const line of expect) assert.ok(r.stdout.includes(line), `verify output has "${line}":\n${r.stdout}`);
  return r.stdout;
}

describe('RedHat-family guests from a synthetic dnf repository', { skip }, () => {
  before(async () => {
    repo = await syntheticRepo(await wantedNames());
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the repository has one package per name vmgen asks for, plus the payload', async () => {
    const names = await wantedNames();
    const files = readdirSync(repo).filter((f) => f.endsWith('.rpm'));
    for (const n of names) assert.ok(files.some((f) => f.startsWith(`${n}-1-1.`)), `${n} is in the repository`);
    someItem(files, (f) => f.startsWith('vmgen-synthetic-root-'), 'vmgen-synthetic-root- package');
    someItem(files, (f) => f.startsWith('vmgen-synthetic-kernel-'), 'vmgen-synthetic-kernel- package');
    for (const n of KERNEL_NAMES) assert.ok(names.includes(n), `a VM guest asks for ${n}`);
  });

  it('lxc: builds with dnf --installroot, and the guest holds the RPM database and the RedHat files', async () => {
    archives.lxc = await buildOk('lxc');
    const listing = (await run(['tar', '-tf', archives.lxc])).stdout;
    for (const path of ['rootfs/usr/lib/sysimage/rpm/rpmdb.sqlite', 'rootfs/etc/firewalld/zones/vmgen.xml', 'rootfs/etc/NetworkManager/conf.d/90-vmgen.conf',
      'rootfs/etc/vmgen/raw-rules.nft']) {
      assert.match(listing, new RegExp(`^(\\./)?${path.replace(/\./g, '\\.')}$`, 'm'), `${path} is in the archive`);
    }
  });

  it('lxc: vmgen verify passes', async () => {
    await verifyOk(archives.lxc!, /^runtime: lxc/m);
  });

  it('web and DNS (redhat-services.conf): the lxc build serves its site and zone, and vmgen verify passes every service check', async () => {
    const archive = await buildOk('lxc', SERVICES);
    assert.equal((await run(['tar', '-xOf', archive, 'rootfs/srv/www/rh/index.html'])).stdout, '<h1>rhsrv1 on the synthetic Fedora</h1>\n');
    await verifyOk(archive, /^runtime: lxc/m, [
      'hostname (running): rhsrv1', 'package bind: installed', 'package bind-utils: installed', 'package httpd: installed',
      'service named active: active', 'service httpd active: active', 'firewall accepts tcp+udp 53',
      'DNS server configuration: named-checkconf -z /etc/named.conf passes',
      'DNS rh.example A 192.168.1.3', 'DNS rh.example MX 10 mail.rh.example.', 'DNS rh.example TXT "v=spf1 -all"', 'DNS www.rh.example A 192.168.1.3',
      'DNS www.rh.example AAAA fd00:2::3', 'DNS mail.rh.example A 192.168.1.3', 'DNS web.rh.example CNAME www.rh.example.',
      'site www.rh.example over http: www.rh.example answer with the content of /srv/www/rh/index.html',
    ].map((l) => `ok    ${l}`), SERVICES);
  });

  it('NetworkManager in the guest reads the keyfiles written for a guest that owns its NICs (a VM)', async () => {
    // Containers leave the NICs to the target, so no keyfile is in the archive: load the VM ones by hand.
    const spec = await specOf(CONFIG);
    const vmSpec = { ...spec, routes: [{ to: '10.0.0.0/8', via: '192.168.1.254' }] };
    const keyfiles = redhatConfigurator.plan({ spec: vmSpec, nicOwner: 'guest' }).files.filter((f) => f.path.endsWith('.nmconnection'));
    assert.equal(keyfiles.length, 1);
    const lxcpath = join(work, 'lxc');
    const dir = join(lxcpath, 'rhweb1');
    mkdirSync(dir, { recursive: true });
    await run(['tar', '-xf', archives.lxc!, '-C', dir]);
    const config = readFileSync(join(dir, 'config'), 'utf8')
      .replace(/^lxc\.rootfs\.path = .*$/m, `lxc.rootfs.path = dir:${dir}/rootfs`)
      .replace(/^lxc\.mount\.fstab = .*$/m, `lxc.mount.fstab = ${dir}/fstab`);
    writeFileSync(join(dir, 'config'), existsSync('/sys/class/net/lxcbr0') ? config : config.replace(/^lxc\.net\.0\.link = .*\n/m, ''));
    for (const f of keyfiles) writeFileSync(join(dir, 'rootfs', `${f.path.replace(/\.nmconnection$/, '')}-vm.nmconnection`), f.content, { mode: f.mode });
    const attach = (...argv: string[]) => spawnCapture('lxc-attach', ['-n', 'rhweb1', '-P', lxcpath, '--', ...argv]);
    await run(['lxc-start', '-n', 'rhweb1', '-P', lxcpath]);
    try {
      let shown = { code: 1 as number | null, stdout: '', stderr: '' };
      for (let i = 0; i < 40 && shown.code !== 0; i++) {
        await attach('nmcli', 'connection', 'reload');
        shown = await attach('nmcli', '-t', '-f', 'ipv4.method,ipv4.addresses,ipv4.gateway,ipv4.routes,ipv6.method', 'connection', 'show', 'eth0');
        if (shown.code !== 0) await new Promise((res) => setTimeout(res, 500));
      }
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^ipv4\.method:manual$/m);
      assert.match(shown.stdout, /^ipv4\.addresses:192\.168\.1\.2\/24$/m);
      assert.match(shown.stdout, /^ipv4\.gateway:192\.168\.1\.1$/m);
      assert.match(shown.stdout, /^ipv4\.routes:.*10\.0\.0\.0\/8.*192\.168\.1\.254/m);
      assert.match(shown.stdout, /^ipv6\.method:disabled$/m);
    } finally {
      await run(['lxc-stop', '-n', 'rhweb1', '-P', lxcpath, '-k']).catch(() => undefined);
    }
  });

  it('oci: builds and vmgen verify passes under podman', async () => {
    archives.oci = await buildOk('oci');
    await verifyOk(archives.oci, /^runtime: podman/m);
  });

  it('qemu: the kernel from the repository, a dracut initramfs made by vmgen, and the VM boots to pass vmgen verify', async () => {
    const r = await vmgen(['build', CONFIG, '--target', 'qemu', '--out', out], { env: { VMGEN_MIRROR: `file://${repo}` } });
    assert.equal(r.code, 0, `build qemu failed:\n${r.stderr}`);
    const archive = lastLine(r.stdout);
    const listing = (await run(['tar', '-tf', archive])).stdout.trim().split('\n').sort();
    assert.deepEqual(listing, ['rhweb1-OVMF_VARS.fd', 'rhweb1-hdd0.qcow2', 'rhweb1.xml', 'run.sh']);
    // The disk boots only through an initramfs (Debian's kernel has virtio_blk as a module), and the
    // repository ships none: the boot is the proof that vmgen's dracut step made one.
    await verifyOk(archive, /^runtime: qemu/m, [...GUEST_CHECKS, 'hostname (login prompt): rhweb1', 'address of eth0: 192.168.1.2/24',
      'mount /boot/efi', 'swap: in use']);
  });

  it('another app set for the same release is installed with dnf on a copy of the base layer', async () => {
    const conf = join(work, 'no-git.conf');
    writeFileSync(conf, readFileSync(CONFIG, 'utf8').replace(/^\s*git = 1\n/m, ''));
    const r = await vmgen(['build', conf, '--target', 'lxc', '--out', join(work, 'no-git')], { env: { VMGEN_MIRROR: `file://${repo}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /packages layer \S+: (made from the base layer|cached)/);
    const root = join(work, 'no-git-root');
    mkdirSync(root);
    await run(['tar', '-xf', lastLine(r.stdout), '-C', root, 'rootfs/usr/lib/sysimage/rpm']);
    // The host's rpm reads the guest's database: httpd is there, git is not.
    const q = (pkg: string) => spawnCapture('rpm', [`--dbpath=${join(root, 'rootfs', 'usr', 'lib', 'sysimage', 'rpm')}`, '-q', pkg]);
    assert.match((await q('httpd')).stdout, /^httpd-1-1/);
    const git = await q('git');
    assert.equal(git.code, 1);
    assert.match(git.stdout, /package git is not installed/);
  });

  it('a package the repository lacks is an error naming it (VMG_PACKAGE)', async () => {
    const conf = join(work, 'missing.conf');
    writeFileSync(conf, readFileSync(CONFIG, 'utf8').replace('[devel]\n', '[devel]\n    emacs = 1\n'));
    const r = await vmgen(['build', conf, '--target', 'lxc', '--out', out], { env: { VMGEN_MIRROR: `file://${repo}` } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /package emacs is not in file:\/\//);
  });
});
