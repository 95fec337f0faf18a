import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LxcAttachCommunicator } from '../../communicators/lxc-attach.js';
import { run } from '../../exec/run.js';
import { LXC_IMAGE_FILES } from '../../targets/lxc/render.js';
import type { Runtime, RuntimeFactory } from './types.js';
import { waitForBoot } from './wait.js';

/**
 * Adapts an unpacked LXC config to where it was unpacked and to this host: LXC reads only absolute
 * paths, so the rootfs and fstab lines follow the directory; a NIC whose bridge does not exist here
 * is left unattached (veth with no link) or, with `empty`, removed. Each change becomes a note.
 */
export function adaptLxcConfig(text: string, containerDir: string, opts: { netOverride?: 'empty' | 'veth'; bridgeExists(name: string): boolean }): { text: string; notes: string[] } {
  const notes: string[] = [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(lxc\.[a-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
    const key = m?.[1];
    const value = m?.[2] ?? '';
    if (key === 'lxc.rootfs.path' && value !== `dir:${containerDir}/rootfs`) {
      notes.push(`lxc.rootfs.path ${value} relocated to dir:${containerDir}/rootfs`);
      out.push(`lxc.rootfs.path = dir:${containerDir}/rootfs`);
    } else if (key === 'lxc.mount.fstab' && value !== `${containerDir}/fstab`) {
      out.push(`lxc.mount.fstab = ${containerDir}/fstab`);
    } else if (key !== undefined && /^lxc\.net\.\d+\./.test(key) && opts.netOverride === 'empty') {
      if (key.endsWith('.type')) {
        out.push(`${key} = empty`);
        notes.push(`${key} overridden to empty`);
      }
    } else if (key !== undefined && /^lxc\.net\.\d+\.link$/.test(key) && (opts.netOverride === 'veth' || !opts.bridgeExists(value))) {
      notes.push(`${key} = ${value}: ${opts.bridgeExists(value) ? 'left out on request' : 'no such bridge here'}; the veth stays unattached`);
    } else {
      out.push(line);
    }
  }
  return { text: out.join('\n'), notes };
}

/**
 * How `vmgen verify` (and a user) makes a container from an LXC image under any directory. `-f
 * /dev/null`: without it, lxc-create starts from the host's default.conf, whose lxc.net.0 lines
 * lxc-local moves after the image's config, where they override the machine's network.
 */
export function lxcCreateArgv(name: string, lxcpath: string, image: { metadata: string; fstree: string }): [string, ...string[]] {
  return ['lxc-create', '-n', name, '-P', lxcpath, '-f', '/dev/null', '-t', 'local', '--', '--metadata', image.metadata, '--fstree', image.fstree];
}

function bridgeExists(br: string): boolean {
  return existsSync(`/sys/class/net/${br.replace(/[^A-Za-z0-9_.-]/g, '')}`);
}

/** A container at lxcpath/name whose config is already there; adapts it to this host, then starts, checks and stops it. */
async function containerRuntime(opts: {
  name: string; lxcpath: string; spec: Parameters<RuntimeFactory['create']>[0]['spec']; netOverride?: 'empty' | 'veth'; notes?: string[]; destroy: boolean;
}): Promise<Runtime> {
  const { name, lxcpath, netOverride } = opts;
  const dir = join(lxcpath, name);
  const configPath = join(dir, 'config');
  const adapted = adaptLxcConfig(await readFile(configPath, 'utf8'), dir, { ...(netOverride ? { netOverride } : {}), bridgeExists });
  await writeFile(configPath, adapted.text);
  const notes = [...(opts.notes ?? []), ...adapted.notes];
  if (netOverride === 'empty' && opts.spec.nics.some((n) => n.mode === 'static')) notes.push('addresses not checked: the NICs were overridden to empty');
  let started = false;
  return {
    name: 'lxc (lxc-start)',
    notes,
    addressesInGuest: netOverride !== 'empty',
    async start(signal) {
      await run(['lxc-start', '-n', name, '-P', lxcpath, '-l', 'INFO', '-o', join(lxcpath, `${name}.log`)], { signal });
      started = true;
      const comm = new LxcAttachCommunicator(name, lxcpath);
      await waitForBoot(comm, signal);
      return comm;
    },
    async stop() {
      if (started) await run(['lxc-stop', '-n', name, '-P', lxcpath, '-k']).catch(() => undefined);
      if (opts.destroy) await run(['lxc-destroy', '-n', name, '-P', lxcpath]).catch(() => undefined);
    },
    targetChecks: async () => [],
  };
}

/** An archive unpacked in place: config, fstab and rootfs/ in the container's directory. */
export const lxcRuntimeFactory: RuntimeFactory = {
  matches: async (dir) => existsSync(join(dir, 'config')) && existsSync(join(dir, 'rootfs')),
  create: ({ dir, spec, netOverride }) => containerRuntime({ name: basename(dir), lxcpath: dirname(dir), spec, ...(netOverride ? { netOverride } : {}), destroy: false }),
};

/** An LXC image: imported with lxc-create -t local into a directory of its own, as a user would. */
export const lxcImageRuntimeFactory: RuntimeFactory = {
  matches: async (dir) => existsSync(join(dir, LXC_IMAGE_FILES.meta)) && existsSync(join(dir, LXC_IMAGE_FILES.rootfs)),
  async create({ dir, workDir, spec, netOverride }) {
    const lxcpath = join(workDir, 'lxc-imported');
    await mkdir(lxcpath, { recursive: true });
    const image = { metadata: join(dir, LXC_IMAGE_FILES.meta), fstree: join(dir, LXC_IMAGE_FILES.rootfs) };
    await run(lxcCreateArgv(spec.name, lxcpath, image));
    await Promise.all(Object.values(image).map((f) => rm(f, { force: true })));
    return containerRuntime({ name: spec.name, lxcpath, spec, ...(netOverride ? { netOverride } : {}), notes: ['imported with lxc-create -t local'], destroy: true });
  },
};
