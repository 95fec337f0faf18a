import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LxcAttachCommunicator } from '../../communicators/lxc-attach.js';
import { run } from '../../exec/run.js';
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

export const lxcRuntimeFactory: RuntimeFactory = {
  kind: 'lxc',
  matches: async (dir) => existsSync(join(dir, 'config')) && existsSync(join(dir, 'rootfs')),
  async create({ dir, spec, netOverride }) {
    const lxcpath = join(dir, '..');
    const name = dir.split('/').pop()!;
    const configPath = join(dir, 'config');
    const adapted = adaptLxcConfig(await readFile(configPath, 'utf8'), dir, {
      ...(netOverride ? { netOverride } : {}),
      bridgeExists: (br) => existsSync(`/sys/class/net/${br.replace(/[^A-Za-z0-9_.-]/g, '')}`),
    });
    await writeFile(configPath, adapted.text);
    if (netOverride === 'empty' && spec.nics.some((n) => n.mode === 'static')) adapted.notes.push('addresses not checked: the NICs were overridden to empty');
    let started = false;
    const runtime: Runtime = {
      name: 'lxc (lxc-start)',
      notes: adapted.notes,
      addressesInGuest: netOverride !== 'empty',
      async start(signal) {
        await run(['lxc-start', '-n', name, '-P', lxcpath, '-l', 'INFO', '-o', join(lxcpath, `${name}.log`)], { signal });
        started = true;
        const comm = new LxcAttachCommunicator(name, lxcpath);
        await waitForBoot(comm, signal);
        return comm;
      },
      async stop() {
        if (!started) return;
        await run(['lxc-stop', '-n', name, '-P', lxcpath, '-k']).catch(() => undefined);
      },
      targetChecks: async () => [],
    };
    return runtime;
  },
};
