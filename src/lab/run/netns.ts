import { VmgenError } from '../../errors.js';

/*
 * The lab's network namespace and its bridges, as argument arrays (pure; ./host.ts runs them).
 * Everything `lab up` makes for the network lives in the namespace: the bridges, the containers'
 * veth pairs and the VMs' taps are made by processes that run inside it, so the host's namespace
 * never gains an interface, a route or a firewall rule, and removing the namespace removes them all.
 */

/** A lab's name as it may appear in a namespace's, a container's and a directory's name. */
const LAB_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** Interface names: Linux allows 15 bytes; the manifest's bridges and our taps are plain ASCII. */
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function checkLabName(name: string): string {
  if (!LAB_NAME.test(name)) throw new VmgenError('VMG_LAB_RUN', `the lab's name ${JSON.stringify(name)} is not one lab up can use`, { hint: 'a lab name is lower-case letters, digits and dashes (at most 32)' });
  return name;
}

export function checkIfName(name: string): string {
  if (!IFNAME.test(name)) throw new VmgenError('VMG_LAB_RUN', `${JSON.stringify(name)} is not an interface name`, { hint: 'at most 15 letters, digits, dots, dashes or underscores' });
  return name;
}

export function netnsName(lab: string): string {
  return `vmgen-${checkLabName(lab)}`;
}

/** Where `ip netns add` puts the namespace's handle: `nsenter --net=` takes it. */
export function netnsPath(ns: string): string {
  return `/run/netns/${ns}`;
}

export function netnsAddArgv(ns: string): [string, ...string[]] {
  return ['ip', 'netns', 'add', ns];
}

export function netnsDeleteArgv(ns: string): [string, ...string[]] {
  return ['ip', 'netns', 'delete', ns];
}

/** The namespace's loopback starts down; guests' own stacks are theirs, but the host-side tools use it. */
export function loopbackUpArgv(ns: string): [string, ...string[]] {
  return ['ip', '-n', ns, 'link', 'set', 'lo', 'up'];
}

export function bridgeArgvs(ns: string, bridge: string): Array<[string, ...string[]]> {
  const br = checkIfName(bridge);
  return [
    ['ip', '-n', ns, 'link', 'add', br, 'type', 'bridge'],
    ['ip', '-n', ns, 'link', 'set', br, 'up'],
  ];
}

/** A VM NIC's tap on its network's bridge. */
export function tapArgvs(ns: string, tap: string, bridge: string): Array<[string, ...string[]]> {
  const t = checkIfName(tap);
  return [
    ['ip', '-n', ns, 'tuntap', 'add', 'dev', t, 'mode', 'tap'],
    ['ip', '-n', ns, 'link', 'set', t, 'master', checkIfName(bridge), 'up'],
  ];
}

/**
 * Runs a command in the lab's namespace with a sysfs of that namespace and the host's cgroups.
 * `ip netns exec` remounts /sys and so hides /sys/fs/cgroup (lxc-start and podman then fail to set
 * up cgroups); `nsenter --net` alone keeps the host's sysfs, where the lab's bridges do not exist.
 * So: a private mount namespace (unshare -m), the cgroup tree bound aside, the network namespace
 * entered, a fresh sysfs mounted (it shows the namespace it is mounted from), the cgroups bound
 * back. Both scripts are constant: the paths and the command reach them as "$@".
 */
export const NETNS_INNER_SCRIPT = 'set -e; mount -t sysfs sysfs /sys; mount --rbind "$0" /sys/fs/cgroup; exec "$@"';
export const NETNS_OUTER_SCRIPT = [
  'set -e',
  'aside=$1; ns=$2; shift 2',
  'mount --rbind /sys/fs/cgroup "$aside"',
  `exec nsenter --net="$ns" sh -c '${NETNS_INNER_SCRIPT}' "$aside" "$@"`,
].join('\n');

/**
 * The argv that runs `argv` in the namespace `nsPath`; `aside` is an empty directory the cgroup
 * tree is bound on in the private mount namespace (it stays empty in the host's).
 */
export function inNetnsArgv(nsPath: string, aside: string, argv: readonly string[]): [string, ...string[]] {
  if (argv.length === 0) throw new Error('empty command');
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', NETNS_OUTER_SCRIPT, 'vmgen-netns', aside, nsPath, ...argv];
}

/** Enters only the network namespace: for tools that need no sysfs or cgroups (lxc-attach, ping). */
export function netOnlyArgv(nsPath: string, argv: readonly string[]): [string, ...string[]] {
  return ['nsenter', `--net=${nsPath}`, '--', ...argv];
}
