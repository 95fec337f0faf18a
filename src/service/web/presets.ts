import type { TargetKind } from '../../targets/limits.js';

/**
 * The machines a first config can start from: real configs, each checked by a test with the
 * validator `vmgen validate` uses, for every target it is offered for. One row each; the page's
 * list, the API's and the README's come from here.
 */
export interface Preset {
  id: string;
  label: string;
  /** One sentence on what the machine is for, shown beside its button. */
  summary: string;
  /** The kinds of target it is offered for (a desktop needs a VM's own kernel and screen). */
  kinds: readonly TargetKind[];
  /** [hardware] keys other than the disks, one `key = value` a line. */
  hardware: readonly string[];
  /** The one disk's size: VMs get it with a root file system; containers have no disks. */
  disk: string;
  /** Everything after [hardware], as a person would write it. */
  body: string;
}

const ALL: readonly TargetKind[] = ['container', 'vm'];

export const PRESETS: readonly Preset[] = [
  {
    id: 'web-server',
    label: 'Web server',
    summary: 'Debian 12 with Apache and SSH; ports 22 and 80 open, the address from DHCP.',
    kinds: ALL,
    hardware: ['vm_id = web1', 'os = debian12-64'],
    disk: '8GB',
    body: `[config]
    root_passwd = change-me
    hostname = web1
    timezone = Etc/UTC
    locale = en_US.UTF-8

[users]
    [[users]]
        [[[admin]]]
            name = admin
            passwd = change-me
            groups = sudo
            shell = /bin/bash

[network]
    [[eths]]
        [[[eth0]]]
            type = dhcp
    [[open_ports]]
        [[[ssh]]]
            port = 22
            description = ssh
        [[[http]]]
            port = 80
            description = web

[services]
    sshd = 1
    httpd = 1
`,
  },
  {
    id: 'desktop',
    label: 'Desktop',
    summary: 'Debian 12 with Firefox, LibreOffice and VLC for one user; no ports open.',
    kinds: ['vm'],
    hardware: ['vm_id = desk1', 'os = debian12-64', 'num_cpu = 2', 'ram = 4GB'],
    disk: '20GB',
    body: `[config]
    root_passwd = change-me
    hostname = desk1
    timezone = Etc/UTC
    locale = en_US.UTF-8

[users]
    [[users]]
        [[[user]]]
            name = user
            passwd = change-me
            shell = /bin/bash

[network]
    [[eths]]
        [[[eth0]]]
            type = dhcp

[gui]
    mozilla-firefox = 1
    libreoffice = 1
    vlc = 1
`,
  },
  {
    id: 'devel',
    label: 'Development box',
    summary: 'Debian 12 with compilers, Git, Python and Node.js; SSH on port 22.',
    kinds: ALL,
    hardware: ['vm_id = dev1', 'os = debian12-64', 'num_cpu = 2', 'ram = 2GB'],
    disk: '16GB',
    body: `[config]
    root_passwd = change-me
    hostname = dev1
    bash_completion = 1
    timezone = Etc/UTC
    locale = en_US.UTF-8

[users]
    [[users]]
        [[[dev]]]
            name = dev
            passwd = change-me
            groups = sudo
            shell = /bin/bash

[network]
    [[eths]]
        [[[eth0]]]
            type = dhcp
    [[open_ports]]
        [[[ssh]]]
            port = 22
            description = ssh

[devel]
    vim = 1
    build-utils = 1
    gdb = 1
    python = 1
    nodejs = 1

[services]
    sshd = 1
    git = 1
`,
  },
  {
    id: 'lab-client',
    label: 'Lab client',
    summary: 'A small Debian 12 machine for a lab network: one student account, network tools, SSH.',
    kinds: ALL,
    hardware: ['vm_id = pc1', 'os = debian12-64', 'ram = 512MB'],
    disk: '4GB',
    body: `[config]
    root_passwd = change-me
    hostname = pc1
    timezone = Etc/UTC
    locale = en_US.UTF-8

[users]
    [[users]]
        [[[student]]]
            name = student
            passwd = student
            shell = /bin/bash

[network]
    [[eths]]
        [[[eth0]]]
            type = dhcp
    [[open_ports]]
        [[[ssh]]]
            port = 22
            description = ssh

[devel]
    dns-client = 1
    curl = 1

[services]
    sshd = 1
`,
  },
];

/** The presets offered for a kind of target, in the table's order. */
export function presetsFor(kind: TargetKind): Preset[] {
  return PRESETS.filter((p) => p.kinds.includes(kind));
}

/** A preset's config text for a kind of target: a VM gets its disk with a root file system, a container none. */
export function presetText(preset: Preset, kind: TargetKind): string {
  const hardware = preset.hardware.map((line) => `    ${line}\n`).join('');
  const disk = kind === 'vm'
    ? `    [[hdds]]\n        [[[hdd0]]]\n            size = ${preset.disk}\n            [[[[partitions]]]]\n                [[[[[root]]]]]\n                    fs = ext4\n                    mount = /\n`
    : '';
  return `# ${preset.label}: ${preset.summary}\n[hardware]\n${hardware}${disk}\n${preset.body}`;
}
