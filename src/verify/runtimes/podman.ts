import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanExecCommunicator } from '../../communicators/podman-exec.js';
import { run } from '../../exec/run.js';
import { VmgenError } from '../../errors.js';
import { IP_FORWARD_KEY } from '../../families/linux/services/router.js';
import { ociRunCommands } from '../../targets/oci/run.js';
import type { Runtime, RuntimeFactory } from './types.js';
import { waitForBoot } from './wait.js';

/**
 * OCI images run under podman. Podman owns the network and the hostname: the first static NIC's
 * address is given through a podman network with that subnet, the hostname from the image's
 * io.vmgen.hostname label, the firewall through CAP_NET_ADMIN. runc, with ulimits podman can set,
 * because crun fails on hosts like this one (hybrid cgroups).
 */
/** host-local IPAM's lease directories, one per CNI network. */
export const CNI_LEASES = '/var/lib/cni/networks';

export const ociRuntimeFactory: RuntimeFactory = {
  matches: async () => false, // an OCI archive is recognized before unpacking, see verify.ts
  async create({ archive, spec }) {
    const id = `vmgen-verify-${randomBytes(4).toString('hex')}`;
    const notes: string[] = [];
    let image: string | undefined;
    let network: string | undefined;
    let container: string | undefined;
    const staticNic = spec.nics.find((n) => n.mode === 'static' && n.address && n.networkAddress);
    const runtime: Runtime = {
      name: 'podman (runc)',
      notes,
      addressesInGuest: staticNic !== undefined,
      async start(signal) {
        // The commands `vmgen build` shows for the image, under this check's own names, with what
        // this host needs on top (runc, and ulimits it can set).
        const [load, ...rest] = ociRunCommands({ spec, archive, format: 'tar', options: {}, dir: tmpdir(), name: id });
        const loaded = await run(load!.argv, { signal });
        image = /Loaded image(?:\(s\))?:\s*(\S+)/.exec(loaded.stdout)?.[1];
        if (!image) throw new VmgenError('VMG_VERIFY', `podman load did not name the image: ${loaded.stdout.trim()}`);
        const inspect = await run(['podman', 'image', 'inspect', '--format', '{{index .Labels "io.vmgen.hostname"}}', image], { signal });
        const hostname = inspect.stdout.trim() || spec.hostname;
        if (staticNic) {
          network = id;
          notes.push(`${staticNic.name}'s address given by podman network ${network} (${staticNic.networkAddress}/${staticNic.prefix})`);
        }
        notes.push(`hostname given by podman from the image label io.vmgen.hostname (${hostname})`);
        if (spec.dns.length > 0) notes.push(`DNS servers given to podman (--dns): podman writes the guest's resolv.conf`);
        // An OCI image cannot carry sysctls, and a container's /proc/sys is read-only: whoever runs
        // a [router] image turns forwarding on, as here.
        if (spec.provision.services.router !== undefined) notes.push(`forwarding for [router] given to podman (--sysctl ${IP_FORWARD_KEY}=1): an OCI image cannot carry it`);
        for (const { argv } of rest) {
          const [podman, verb, ...args] = argv;
          if (verb === 'run') {
            container = id;
            // The archive's own hostname, not the config's: a check of the one against the other.
            const named = args.map((a, i) => (args[i - 1] === '--hostname' ? hostname : a));
            await run([podman, verb, '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', ...named], { signal });
          } else {
            await run(argv, { signal });
          }
        }
        if (container === undefined) throw new VmgenError('VMG_VERIFY', `the image's run commands start no container: ${rest.map((c) => c.argv.join(' ')).join('; ')}`);
        const comm = new PodmanExecCommunicator(container);
        await waitForBoot(comm, signal);
        return comm;
      },
      async stop() {
        if (container) await run(['podman', 'rm', '-f', '-t', '0', container]).catch(() => undefined);
        if (network) {
          await run(['podman', 'network', 'rm', '-f', network]).catch(() => undefined);
          // Under CNI, host-local IPAM keeps the network's lease files after the network is gone.
          await rm(join(CNI_LEASES, network), { recursive: true, force: true });
        }
        if (image) await run(['podman', 'rmi', '-f', image]).catch(() => undefined);
      },
      targetChecks: async () => [],
    };
    return runtime;
  },
};
