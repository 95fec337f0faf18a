/*
 * A build script is the user's code running on the build host, so it runs without the host's
 * privileges: as root of its own user namespace, whose ids 0..65535 are the host's 200000..265535,
 * so it owns nothing of the host's and holds no capability over it. The guest's root is shown to
 * it through idmapped mounts (the overlay's layers, or a copied root), so the guest's root-owned
 * files are its own and what it writes lands on disk owned by the guest's ids, not 200000+.
 * The root is pivoted into, not chrooted, so there is no way back to the host's file system; it
 * gets a fresh /proc of its own PID namespace, a minimal /dev, private /tmp and /run, its own
 * IPC and UTS namespaces, and a network namespace with only a loopback unless the config asks for
 * the network.
 *
 * No host program does all of this on Debian 12 (util-linux 2.38's mount has no idmap option,
 * systemd-nspawn cannot idmap an overlay), so a small Perl program (perl-base is Essential on
 * Debian) makes the syscalls: open_tree, mount_setattr and move_mount for the idmapped layers, an
 * overlay mounted with the mapped file system ids so it writes through them, pivot_root, and the
 * namespaces. Arguments are an argv array; no value reaches a shell. This file is the pure part:
 * the argv. sandbox.ts runs it.
 */

/** The host ids the guest's 0..65535 are mapped to. */
export const SANDBOX_ID_BASE = 200000;
export const SANDBOX_ID_COUNT = 65536;

/** Where the script is inside the sandbox (a tmpfs, so nothing of it stays in the image). */
export const SANDBOX_SCRIPT = '/run/vmgen/script';

export type SandboxRoot =
  /** An overlay: the layer below, the directory holding the upper and work directories, and their names in it. */
  | { kind: 'overlay'; lower: string; base: string; upper: string; work: string }
  /** A plain directory (a copied layer). */
  | { kind: 'dir'; path: string };

export interface SandboxRequest {
  root: SandboxRoot;
  /** An empty directory on the host for the sandbox's mount points (under the build's work directory). */
  scratch: string;
  /** The script's text on the host, copied into the sandbox. */
  scriptFile: string;
  network: boolean;
}

export const SANDBOX_TOOLS = ['perl'] as const;

export function sandboxArgv(req: SandboxRequest): [string, ...string[]] {
  const root = req.root.kind === 'overlay'
    ? ['overlay', req.root.lower, req.root.base, req.root.upper, req.root.work]
    : ['dir', req.root.path, '', '', ''];
  return [
    'perl', '-e', SANDBOX_PERL, '--',
    String(SANDBOX_ID_BASE), String(SANDBOX_ID_COUNT), ...root, req.scratch, req.scriptFile, req.network ? 'net' : 'nonet',
    '/bin/sh', '-c', SCRIPT_RUNNER, 'vmgen-build-script', SANDBOX_SCRIPT,
  ];
}

/** A script with a #! line runs by it; any other by /bin/sh -e (the guest's shell; this text is vmgen's, not the config's). */
const SCRIPT_RUNNER = 'IFS= read -r first < "$1" || true; case $first in "#!"*) exec "$1" ;; *) exec /bin/sh -e "$1" ;; esac';

/** The helper; see the comment at the top. Syscall numbers for x86_64 and aarch64 (the new mount API's are shared). */
export const SANDBOX_PERL = String.raw`
use strict; use warnings; use POSIX ();
my %NR = (
  x86_64  => { unshare => 272, mount => 165, umount2 => 166, pivot_root => 155, setfsuid => 122, setfsgid => 123,
               capget => 125, capset => 126, setresuid => 117, setresgid => 119, setgroups => 116, prctl => 157 },
  aarch64 => { unshare => 97, mount => 40, umount2 => 39, pivot_root => 41, setfsuid => 151, setfsgid => 152,
               capget => 90, capset => 91, setresuid => 147, setresgid => 149, setgroups => 159, prctl => 167 },
);
my ($OPEN_TREE, $MOVE_MOUNT, $MOUNT_SETATTR) = (428, 429, 442);
my $arch = (POSIX::uname())[4];
my $nr = $NR{$arch} or die "vmgen sandbox: unsupported architecture $arch\n";
my ($base_id, $count, $kind, $lower, $base, $upper, $work, $scratch, $script, $net, @cmd) = @ARGV;
# syscall() passes a string as a pointer and only a number as a number.
$base_id += 0; $count += 0;
# syscall() may write into its string arguments, so each is passed as a copy, never a literal.
sub sys { my $name = shift; my @a = map { my $v = $_; $v } @_; my $r = syscall($nr->{$name}, @a); die "vmgen sandbox: $name @a[0..1]: $!\n" if $r < 0; return $r; }
sub mnt { my ($src, $dst, $type, $flags, $data) = @_; sys('mount', $src, $dst, $type, $flags, defined $data ? $data : 0); }
my ($NEWNS, $NEWUTS, $NEWIPC, $NEWUSER, $NEWPID, $NEWNET) = (0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000);
my ($MS_NOSUID, $MS_NODEV, $MS_NOEXEC, $MS_BIND, $MS_REC, $MS_PRIVATE) = (2, 4, 8, 4096, 16384, 262144);

# A private mount namespace: every mount below vanishes with this process.
sys('unshare', $NEWNS);
mnt('none', '/', 0, $MS_REC | $MS_PRIVATE);

# A user namespace holding the mapping, for the idmapped mounts.
sub mapped_child {
  pipe(my $r1, my $w1) or die; pipe(my $r2, my $w2) or die;
  my $pid = fork(); die "fork: $!" unless defined $pid;
  if ($pid == 0) {
    close $r1; close $w2;
    sys('prctl', 1, 9);
    sys('unshare', $NEWUSER);
    syswrite $w1, 'u'; close $w1;
    # The parent's end closing without a word means it failed: nothing runs then.
    POSIX::_exit(1) unless (sysread($r2, my $go, 1) // 0) == 1;
    return (0, $r2);
  }
  close $w1; close $r2;
  sysread $r1, my $ready, 1;
  for my $f ('uid_map', 'gid_map') {
    open my $fh, '>', "/proc/$pid/$f" or die "vmgen sandbox: $f: $!\n";
    print $fh "0 $base_id $count\n"; close $fh or die "vmgen sandbox: $f: $!\n";
  }
  return ($pid, $w2);
}
my ($holder, $hold) = mapped_child();
exit 0 if $holder == 0;
open my $userns, '<', "/proc/$holder/ns/user" or die "vmgen sandbox: userns: $!\n";
sub idmapped {
  my ($src, $dst) = @_;
  my ($path, $to, $empty) = ($src, $dst, '');
  my $fd = syscall($OPEN_TREE, -100, $path, 1 | 0x80000);
  die "vmgen sandbox: open_tree $src: $!\n" if $fd < 0;
  my $attr = pack('QQQQ', 0x100000, 0, 0, fileno($userns));
  syscall($MOUNT_SETATTR, $fd, $empty, 0x1000, $attr, 32) >= 0 or die "vmgen sandbox: idmapped mount of $src: $!\n";
  syscall($MOVE_MOUNT, $fd, $empty, -100, $to, 4) >= 0 or die "vmgen sandbox: move_mount $dst: $!\n";
  POSIX::close($fd);
}
for my $d ("$scratch/lower", "$scratch/base", "$scratch/root") { mkdir $d; }
my $root = "$scratch/root";
if ($kind eq 'overlay') {
  idmapped($lower, "$scratch/lower");
  idmapped($base, "$scratch/base");
} else {
  idmapped($lower, $root);
}
kill 'KILL', $holder; waitpid $holder, 0;

# The script's process: its own user namespace (mapped as above), made now while the host's /proc
# is still reachable to write its maps; it waits until its root is ready.
sub run_script {
  chdir '/' or die;
  sys('setgroups', 0, 0); sys('setresgid', 0, 0, 0); sys('setresuid', 0, 0, 0);
  sys('unshare', $NEWNS | $NEWPID | $NEWIPC | $NEWUTS | ($net eq 'net' ? 0 : $NEWNET));
  my $init = fork(); die "fork: $!" unless defined $init;
  if ($init != 0) { waitpid $init, 0; exit($? & 127 ? 128 + ($? & 127) : $? >> 8); }
  sys('prctl', 1, 9);
  mnt('proc', '/proc', 'proc', $MS_NOSUID | $MS_NODEV | $MS_NOEXEC);
  # Root of a guest, not of its namespaces: a container runtime's default capabilities (owners,
  # modes, users, kill, chroot, low ports), none to mount, unmount, load modules or reconfigure.
  my $keep = 0; $keep |= 1 << $_ for (0 .. 8, 10, 13, 18, 27, 29, 31);
  for my $cap (0 .. 63) { syscall($nr->{prctl}, 24, $cap, 0, 0, 0) unless $keep & (1 << $cap); }
  sys('capset', pack('LL', 0x20080522, 0), pack('L6', $keep, $keep, 0, 0, 0, 0));
  $ENV{PATH} = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  $ENV{HOME} = '/root';
  exec { $cmd[0] } @cmd or die "vmgen sandbox: $cmd[0]: $!\n";
}
my ($child, $go) = mapped_child();
run_script() if $child == 0;

# Files are made as the guest's root from here: the fs ids become the mapped root's, and the
# capabilities that changing them drops are raised again from the permitted set.
sys('setfsgid', $base_id); sys('setfsuid', $base_id);
my $hdr = pack('LL', 0x20080522, 0); my $caps = "\0" x 24;
syscall($nr->{capget}, $hdr, $caps) >= 0 or die "vmgen sandbox: capget: $!\n";
my @c = unpack('L6', $caps);
sys('capset', $hdr, pack('L6', $c[1], $c[1], $c[2], $c[4], $c[4], $c[5]));
if ($kind eq 'overlay') {
  mnt('overlay', $root, 'overlay', 0, "lowerdir=$scratch/lower,upperdir=$scratch/base/$upper,workdir=$scratch/base/$work,redirect_dir=off,metacopy=off");
}
for my $d (qw(proc dev tmp run)) { -d "$root/$d" or mkdir "$root/$d" or die "vmgen sandbox: mkdir /$d: $!\n"; }
my $ids = "uid=$base_id,gid=$base_id";
mnt('tmpfs', "$root/tmp", 'tmpfs', $MS_NOSUID | $MS_NODEV, "mode=1777,$ids");
mnt('tmpfs', "$root/run", 'tmpfs', $MS_NOSUID | $MS_NODEV, "mode=0755,$ids");
mnt('tmpfs', "$root/dev", 'tmpfs', $MS_NOSUID | $MS_NOEXEC, "mode=0755,$ids");
for my $dev ('null', 'zero', 'full', 'random', 'urandom', 'tty') {
  open my $fh, '>', "$root/dev/$dev" or die "vmgen sandbox: /dev/$dev: $!\n"; close $fh;
  mnt("/dev/$dev", "$root/dev/$dev", 0, $MS_BIND);
}
mkdir "$root/dev/shm"; mkdir "$root/dev/pts";
# The kernel lets a user namespace mount a proc only where one is visible already. This one, of the
# host's PID namespace, shows no process but the viewer's own (hidepid), and the script's own
# proc is mounted over it.
mnt('proc', "$root/proc", 'proc', $MS_NOSUID | $MS_NODEV | $MS_NOEXEC, 'hidepid=invisible');
symlink '/proc/self/fd', "$root/dev/fd";
symlink "/proc/self/fd/$_->[1]", "$root/dev/$_->[0]" for (['stdin', 0], ['stdout', 1], ['stderr', 2]);
mkdir "$root/run/vmgen";
open my $in, '<', $script or die "vmgen sandbox: $script: $!\n";
open my $out, '>', "$root/run/vmgen/script" or die "vmgen sandbox: script: $!\n";
{ local $/; print $out scalar <$in>; } close $out; close $in;
chmod 0755, "$root/run/vmgen/script";

# Into the guest's root for good: the host's tree is detached, so no chroot trick leads back.
mkdir "$root/run/vmgen/old";
sys('pivot_root', $root, "$root/run/vmgen/old");
chdir '/' or die;
sys('umount2', '/run/vmgen/old', 2);
rmdir '/run/vmgen/old';
sys('setfsuid', 0); sys('setfsgid', 0);
syswrite $go, 'g'; close $go;
waitpid $child, 0;
exit($? & 127 ? 128 + ($? & 127) : $? >> 8);
`;
