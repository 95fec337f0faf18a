import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PodmanExecCommunicator } from '../../../communicators/podman-exec.js';
import { run } from '../../../exec/run.js';
import { VmgenError } from '../../../errors.js';
import { CNI_LEASES } from '../../../verify/runtimes/podman.js';
import { waitForBoot } from '../../../verify/runtimes/wait.js';
import type { LabManifest, LabManifestMachine } from '../../manifest.js';
import { LAB_OCI_LAYOUT } from '../../members/oci.js';
import { labImageRef, ociLabPlan, podmanNetworkArgs, podmanRunArgs, type OciServicePlan } from '../../topology/oci.js';
import { netOnlyArgv } from '../netns.js';
import { pingFrom } from './containers.js';
import type { LabRunContext, LabRuntime } from './types.js';

/*
 * OCI images under podman, from the plan compose.yaml is written from (topology/oci.ts): each image
 * copied by skopeo from the lab's one OCI layout into podman's store, one podman network per lab
 * network and the containers on them. podman runs inside the lab's namespace, so the CNI bridges
 * (podman's names, not lab.json's: podman 4.3 cannot be given one) and the containers' veths are made there. Podman owns the
 * containers' addresses: a DHCP NIC gets a fixed one from the lab's DHCP range (ociLabPlan).
 */

const ROLE_IMAGE = 'image';
/** runc, with ulimits podman can set: crun fails on hosts with hybrid cgroups (as vmgen verify's podman runtime). */
const HOST_RUN_OPTIONS = ['--runtime', 'runc', '--systemd=always', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

function containerOf(ctx: LabRunContext, m: LabManifestMachine): string {
  return `${ctx.manifest.lab.name}-${m.name}`;
}

/** The plan needs each machine's config; `down` runs without them, and needs no plan. */
function planOf(ctx: LabRunContext): ReturnType<typeof ociLabPlan> {
  const machines = ctx.manifest.machines.map((m) => {
    const built = ctx.machines.get(m.name);
    if (built === undefined) throw new Error(`${m.name} has no config`);
    return { name: m.name, config: built.config, nics: m.nics };
  });
  return ociLabPlan({ name: ctx.manifest.lab.name, machines }, ctx.manifest.networks);
}

function serviceOf(plan: ReturnType<typeof ociLabPlan>, m: LabManifestMachine): OciServicePlan {
  const s = plan.services.find((x) => x.name === m.name);
  if (s === undefined) throw new Error(`${m.name} is not in the lab's plan`);
  return s;
}

/**
 * podman commands that make or remove network state run in the lab's namespace (the CNI plugins
 * act there). Only the network namespace: podman keeps each container's network namespace as a
 * bind mount under /run/netns, which a private mount namespace (inNetnsArgv) would hide from the
 * host's podman exec and rm, and CNI's bridge plugin works through netlink, not sysfs.
 */
const inLab = (ctx: LabRunContext, argv: readonly string[]): [string, ...string[]] => netOnlyArgv(ctx.netnsPath, argv);

async function containerPid(name: string): Promise<number> {
  const r = await run(['podman', 'inspect', '--format', '{{.State.Pid}}', '--', name]);
  const pid = Number(r.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new VmgenError('VMG_LAB_RUN', `${name} is not running (podman inspect: ${r.stdout.trim() || 'no PID'})`);
  return pid;
}

/** Names podman and CNI use as file names: lab.json's, checked before they reach a path. */
function checkRuntimeName(name: string): string {
  if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name)) throw new VmgenError('VMG_LAB_RUN', `${JSON.stringify(name)} is not a podman network name`);
  return name;
}

export const ociLabRuntime: LabRuntime = {
  id: 'podman-oci',
  label: 'podman (runc, in the lab namespace)',
  matches: (m: LabManifest) => m.machines.length > 0 && 'compose' in m.topology && m.machines.every((x) => ROLE_IMAGE in x.files),
  tools: ['podman', 'skopeo', 'nsenter', 'unshare', 'ping'],
  leasesBy: 'podman',
  makesBridges: false,
  async prepare(ctx, signal) {
    const plan = planOf(ctx);
    const layout = join(ctx.labDir, LAB_OCI_LAYOUT);
    for (const m of ctx.manifest.machines) {
      const image = labImageRef(ctx.manifest.lab.name, m.name);
      ctx.log(`${m.name}: loading ${image}`);
      await ctx.record('image', image);
      // The layout holds every machine's image, each named by its machine (org.opencontainers.image.ref.name).
      await run(['skopeo', 'copy', '--quiet', `oci:${layout}:${m.name}`, `containers-storage:${image}`], { signal });
    }
    for (const n of plan.networks) {
      await ctx.record('network', checkRuntimeName(n.runtimeNetwork));
      await run(['podman', 'network', 'create', ...podmanNetworkArgs(n)], { signal });
      // podman 4.3 cannot name the bridge (no --interface-name): it picks one, said here and in verify's view of the lab.
      const bridge = (await run(['podman', 'network', 'inspect', '--format', '{{.NetworkInterface}}', '--', n.runtimeNetwork], { signal })).stdout.trim();
      ctx.log(`network ${n.name}: podman network ${n.runtimeNetwork}, bridge ${bridge || '(podman\'s)'} in the lab namespace`);
    }
  },
  async start(ctx, machines, signal) {
    const plan = planOf(ctx);
    for (const m of machines) {
      const service = serviceOf(plan, m);
      await ctx.record('container', containerOf(ctx, m));
      await run(inLab(ctx, ['podman', 'run', '-d', ...HOST_RUN_OPTIONS, ...podmanRunArgs(ctx.manifest.lab.name, service)]), { signal });
    }
    await Promise.all(machines.map(async (m) => {
      await waitForBoot(new PodmanExecCommunicator(containerOf(ctx, m)), signal);
      const route = serviceOf(plan, m).defaultRoute;
      if (route !== undefined) {
        // Internal podman networks give no default route: the lab's router is the way out (ociLabPlan).
        // The host's ip in the container's network stack: the guest needs no route tool of its own.
        const pid = await containerPid(containerOf(ctx, m));
        await run(['nsenter', `--net=/proc/${pid}/ns/net`, '--', 'ip', 'route', 'replace', 'default', 'via', route], { signal });
      }
    }));
  },
  async open(ctx, m) {
    const name = containerOf(ctx, m);
    return { comm: new PodmanExecCommunicator(name), ping: pingFrom(() => containerPid(name)) };
  },
  async stop(ctx, m) {
    const name = containerOf(ctx, m);
    // In the namespace while it exists, so CNI removes the veth from the lab's bridge.
    await run(inLab(ctx, ['podman', 'rm', '-f', '-t', '0', '--', name])).catch(() => run(['podman', 'rm', '-f', '-t', '0', '--', name])).catch(() => undefined);
  },
  async cleanup(ctx) {
    for (const net of ctx.recorded('network')) {
      await run(['podman', 'network', 'rm', '-f', '--', net]).catch(() => undefined);
      // host-local IPAM's lease files stay behind `podman network rm` under CNI.
      await rm(join(CNI_LEASES, checkRuntimeName(net)), { recursive: true, force: true });
    }
    for (const image of ctx.recorded('image')) await run(['podman', 'rmi', '-f', '--', image]).catch(() => undefined);
  },
};
