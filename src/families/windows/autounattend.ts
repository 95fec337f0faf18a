import type { ResolvedSpec } from '../../config/resolve.js';
import { VmgenError } from '../../errors.js';
import { CONFIG_BAT, SETUP_BAT, WINDOWS_DIR_CMD } from './configure.js';
import { type WindowsHardwareChecks, windowsRelease } from './releases.js';
import type { VmDisk, VmLayout, VmPartition } from '../../disks/layout.js';
import type { PlatformSecurity } from '../platform-security.js';
import { UNATTEND_SETTINGS, type UnattendPass } from './unattend-settings.js';

/*
 * autounattend.xml for Windows Setup (Vista and later) from the machine's layout and spec: the
 * disks partitioned as [hdds] says, Windows installed on the first NTFS partition of the first disk,
 * the computer name, the Administrator password and the users, one automatic logon as
 * Administrator, and first-logon commands that copy C:\vmgen from the answer media and run
 * config.bat and setup.bat there. The answer media is a small ISO holding this file at its root
 * and the scripts and kits under vmgen\ (see answerMediaFiles).
 *
 * The file holds the passwords in plain text: Windows Setup masks them in the copy it keeps
 * (Panther\unattend.xml), and the answer media is meant to be detached after installation.
 */

interface XmlNode {
  name: string;
  attrs?: Record<string, string>;
  text?: string;
  children?: XmlNode[];
}

const el = (name: string, content?: string | XmlNode[], attrs?: Record<string, string>): XmlNode => ({
  name,
  ...(attrs === undefined ? {} : { attrs }),
  ...(typeof content === 'string' ? { text: content } : content === undefined ? {} : { children: content }),
});
const listItem = (name: string, children: XmlNode[]): XmlNode => el(name, children, { 'wcm:action': 'add' });

// Microsoft-Windows-Setup creates a 16 MB MSR after the ESP on GPT disks in its own examples.
const MSR_MB = 16;

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function render(node: XmlNode, indent: string): string {
  const attrs = Object.entries(node.attrs ?? {}).map(([k, v]) => ` ${k}="${xmlEscape(v)}"`).join('');
  if (node.children !== undefined) {
    return `${indent}<${node.name}${attrs}>\n${node.children.map((c) => render(c, `${indent}  `)).join('')}${indent}</${node.name}>\n`;
  }
  return `${indent}<${node.name}${attrs}>${xmlEscape(node.text ?? '')}</${node.name}>\n`;
}

/** Refuses any element the settings table does not list for the pass (see unattend-settings.ts). */
function checkSettings(component: string, pass: UnattendPass, nodes: readonly XmlNode[], prefix = component): void {
  for (const node of nodes) {
    const path = `${prefix}/${node.name}`;
    const setting = UNATTEND_SETTINGS.get(path);
    if (setting === undefined || !setting.passes.includes(pass)) {
      throw new VmgenError('VMG_INTERNAL', `autounattend.xml: ${path} in pass ${pass} is not in the table of documented settings`);
    }
    checkSettings(component, pass, node.children ?? [], path);
  }
}

function component(name: string, arch: string, pass: UnattendPass, children: XmlNode[]): XmlNode {
  checkSettings(name, pass, children);
  return el('component', children, {
    name, processorArchitecture: arch, publicKeyToken: '31bf3856ad364e35', language: 'neutral', versionScope: 'nonSxS',
    'xmlns:wcm': 'http://schemas.microsoft.com/WMIConfig/2002/State',
    'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
  });
}

/** en_US.UTF-8 → en-US; Windows' default when the config names no locale. */
export function windowsLocale(locale: string | undefined): string {
  if (locale === undefined) return 'en-US';
  const m = /^([a-z]{2,3})_([A-Z]{2})(?:[.@].*)?$/.exec(locale);
  if (!m) throw new VmgenError('VMG_UNSUPPORTED', `config.locale ${JSON.stringify(locale)} has no Windows language tag`, { hint: 'write it like en_US.UTF-8' });
  return `${m[1]}-${m[2]}`;
}

interface Planned {
  create: XmlNode[];
  modify: XmlNode[];
  /** PartitionID of the partition Windows goes to, on the boot disk. */
  system?: number;
}

function planDisk(disk: VmDisk, firmware: VmLayout['firmware']): Planned {
  const where = `disk ${disk.name}`;
  if (disk.partitions.some((p) => p.kind === 'logical')) {
    throw new VmgenError('VMG_UNSUPPORTED', `${where}: autounattend.xml is written for primary partitions only`, { hint: "use 'type = primary' or 'table = gpt'" });
  }
  if (disk.boot && firmware === 'efi' && disk.table !== 'gpt') throw new VmgenError('VMG_UNSUPPORTED', `${where}: Windows boots from an MBR disk only with BIOS firmware`);
  if (disk.boot && firmware === 'bios' && disk.table === 'gpt') throw new VmgenError('VMG_UNSUPPORTED', `${where}: Windows boots from a GPT disk only with UEFI firmware`);
  const planned: Planned = { create: [], modify: [] };
  const entries: Array<{ type: string; sizeMiB?: number; partition?: VmPartition }> = [];
  for (const p of disk.partitions) {
    if (p.esp === true) {
      entries.push({ type: 'EFI', sizeMiB: p.sizeMiB ?? 256, partition: p });
      if (disk.table === 'gpt') entries.push({ type: 'MSR', sizeMiB: MSR_MB });
      continue;
    }
    if (p.fs !== 'ntfs' && p.fs !== 'vfat') {
      throw new VmgenError('VMG_UNSUPPORTED', `${where}, partition ${p.name}: Windows Setup formats NTFS or FAT32, not ${p.fs}`);
    }
    entries.push({ type: 'Primary', ...(p.sizeMiB === undefined ? {} : { sizeMiB: p.sizeMiB }), partition: p });
  }
  let modifyOrder = 0;
  entries.forEach((e, i) => {
    const id = i + 1;
    planned.create.push(listItem('CreatePartition', [
      el('Order', String(id)),
      el('Type', e.type),
      e.sizeMiB === undefined ? el('Extend', 'true') : el('Size', String(e.sizeMiB)),
    ]));
    const p = e.partition;
    if (p === undefined) return; // an MSR cannot be modified
    const isSystem = disk.boot && planned.system === undefined && p.fs === 'ntfs';
    if (isSystem) planned.system = id;
    const label = p.esp === true ? 'System' : p.label ?? (isSystem ? 'Windows' : undefined);
    planned.modify.push(listItem('ModifyPartition', [
      el('Order', String(++modifyOrder)),
      el('PartitionID', String(id)),
      el('Format', p.fs === 'ntfs' ? 'NTFS' : 'FAT32'),
      ...(label === undefined ? [] : [el('Label', label)]),
      ...(isSystem && disk.table === 'mbr' ? [el('Active', 'true')] : []),
    ]));
  });
  return planned;
}

function passwordNode(name: string, password: string): XmlNode {
  return el(name, [el('Value', password), el('PlainText', 'true')]);
}

/** The first-logon commands: fetch C:\vmgen from the answer media, run the scripts, restart. */
export function firstLogonCommands(): string[] {
  // cmd /c runs these, not a batch file: a single % is the for variable.
  return [
    `cmd /c for %d in (D E F G H I J K L M N O P Q R S T U V W X Y Z) do @if exist %d:\\vmgen\\${CONFIG_BAT} xcopy /e /i /y %d:\\vmgen ${WINDOWS_DIR_CMD}`,
    `cmd /c call ${WINDOWS_DIR_CMD}\\${CONFIG_BAT} > ${WINDOWS_DIR_CMD}\\config.log 2>&1`,
    `cmd /c if exist ${WINDOWS_DIR_CMD}\\${SETUP_BAT} call ${WINDOWS_DIR_CMD}\\${SETUP_BAT} > ${WINDOWS_DIR_CMD}\\setup.log 2>&1`,
    'shutdown /r /t 10 /c "vmgen: restarting to apply the computer name"',
  ];
}

/** What Windows Setup's hardware check sees of the machine. */
interface MachineFacts {
  platform: PlatformSecurity;
  ramMiB: number;
  cpus: number;
  /** Size of the disk Windows is installed on. */
  diskMiB: number;
}

/**
 * The LabConfig values that make Windows 11 Setup skip one of its hardware checks, each when the
 * machine fails that check. Microsoft documents the requirements, not these values; they are the
 * established practice of installers that write answer files for Windows 11 on machines without
 * a TPM or Secure Boot: Rufus writes BypassTPMCheck, BypassSecureBootCheck and BypassRAMCheck as
 * `reg add HKLM\SYSTEM\Setup\LabConfig /v NAME /t REG_DWORD /d 1 /f` RunSynchronous commands
 * of Microsoft-Windows-Setup in the windowsPE pass (pbatard/rufus, src/wue.c, CreateUnattendXml),
 * which runs them before Setup checks the machine; BypassStorageCheck and BypassCPUCheck are read
 * by the same Setup and used by the same tools.
 */
const LAB_CONFIG: ReadonlyArray<{ value: string; what: string; fails(checks: WindowsHardwareChecks, m: MachineFacts): boolean }> = [
  { value: 'BypassTPMCheck', what: 'TPM 2.0', fails: (c, m) => c.tpm2 && !m.platform.tpm2 },
  { value: 'BypassSecureBootCheck', what: 'Secure Boot', fails: (c, m) => c.secureBoot && !m.platform.secureBoot },
  { value: 'BypassRAMCheck', what: 'memory', fails: (c, m) => m.ramMiB < c.minRamMiB },
  { value: 'BypassStorageCheck', what: 'disk size', fails: (c, m) => m.diskMiB < c.minDiskMiB },
  { value: 'BypassCPUCheck', what: 'processor', fails: (c, m) => m.cpus < c.minCpus },
];

/** The LabConfig values this machine needs, in table order; none for releases Setup does not check. */
export function labConfigBypasses(checks: WindowsHardwareChecks | undefined, machine: MachineFacts): Array<{ value: string; what: string }> {
  if (checks === undefined) return [];
  return LAB_CONFIG.filter((b) => b.fails(checks, machine)).map(({ value, what }) => ({ value, what }));
}

const BUILTIN_GROUPS = new Set(['administrators', 'users', 'power users', 'guests', 'remote desktop users', 'backup operators', 'network configuration operators']);

/**
 * `platform`: the TPM and Secure Boot the target gives this machine (see platform-security.ts);
 * for a Windows release that requires what is missing, Setup is told to skip that check.
 */
export function renderAutounattend(spec: ResolvedSpec, layout: VmLayout, platform: PlatformSecurity): string {
  const release = windowsRelease(spec.os);
  if (!release.autounattend) {
    throw new VmgenError('VMG_UNSUPPORTED', `${spec.os.label}: Windows Setup reads autounattend.xml from Windows Vista on`, { hint: 'XP guests are made from a base disk' });
  }
  const admin = spec.rootPassword;
  if (admin === undefined || 'hash' in admin) {
    throw new VmgenError('VMG_UNSUPPORTED', 'autounattend.xml needs config.root_passwd: Windows logs on once as Administrator to run the scripts');
  }
  const arch = spec.os.arch === 'amd64' ? 'amd64' : 'x86';
  const lang = windowsLocale(spec.locale);
  const disks = layout.disks.map((d) => ({ disk: d, planned: planDisk(d, layout.firmware) }));
  const bootIndex = disks.findIndex((d) => d.disk.boot);
  const system = disks[bootIndex]?.planned.system;
  if (system === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', 'autounattend.xml: the first disk has no NTFS partition to install Windows on', { hint: 'add a partition with fs = ntfs' });
  }
  const international = (pe: boolean): XmlNode[] => [
    ...(pe ? [el('SetupUILanguage', [el('UILanguage', lang)])] : []),
    el('InputLocale', lang), el('SystemLocale', lang), el('UILanguage', lang), el('UserLocale', lang),
  ];
  const bypasses = labConfigBypasses(release.hardwareChecks, {
    platform, ramMiB: spec.ramMiB, cpus: spec.cpus, diskMiB: disks[bootIndex]!.disk.sizeMiB,
  });
  const windowsPE = [
    component('Microsoft-Windows-International-Core-WinPE', arch, 'windowsPE', international(true)),
    component('Microsoft-Windows-Setup', arch, 'windowsPE', [
      ...(bypasses.length === 0 ? [] : [el('RunSynchronous', bypasses.map(({ value, what }, i) => listItem('RunSynchronousCommand', [
        el('Order', String(i + 1)),
        el('Path', `reg add HKLM\\SYSTEM\\Setup\\LabConfig /v ${value} /t REG_DWORD /d 1 /f`),
        el('Description', `Windows 11 Setup: skip the ${what} check, which this machine fails`),
      ])))]),
      // A disk without partitions is left as Windows finds it: blank, for Disk Management.
      el('DiskConfiguration', disks.flatMap(({ planned }, id) => (planned.create.length === 0 ? [] : [listItem('Disk', [
        el('DiskID', String(id)),
        el('WillWipeDisk', 'true'),
        el('CreatePartitions', planned.create),
        ...(planned.modify.length > 0 ? [el('ModifyPartitions', planned.modify)] : []),
      ])]))),
      el('ImageInstall', [el('OSImage', [el('InstallTo', [el('DiskID', String(bootIndex)), el('PartitionID', String(system))])])]),
      el('UserData', [el('AcceptEula', 'true')]),
    ]),
  ];
  const specialize = [component('Microsoft-Windows-Shell-Setup', arch, 'specialize', [el('ComputerName', spec.hostname)])];
  const accounts = spec.users.flatMap((u) => {
    if (u.password === undefined || !('plain' in u.password)) return [];
    const builtin = u.groups.filter((g) => BUILTIN_GROUPS.has(g.toLowerCase()));
    return [listItem('LocalAccount', [
      passwordNode('Password', u.password.plain),
      el('Name', u.name),
      // Only groups that exist during setup; config.bat adds the config's own groups later.
      el('Group', builtin.length > 0 ? builtin.join(';') : 'Users'),
    ])];
  });
  const oobe = [
    el('HideEULAPage', 'true'),
    ...(release.modernOobe ? [el('HideLocalAccountScreen', 'true'), el('HideOnlineAccountScreens', 'true'), el('HideWirelessSetupInOOBE', 'true')] : []),
    el('NetworkLocation', 'Work'),
    el('ProtectYourPC', '3'),
  ];
  const oobeSystem = [
    component('Microsoft-Windows-International-Core', arch, 'oobeSystem', international(false)),
    component('Microsoft-Windows-Shell-Setup', arch, 'oobeSystem', [
      el('OOBE', oobe),
      el('UserAccounts', [
        passwordNode('AdministratorPassword', admin.plain),
        ...(accounts.length > 0 ? [el('LocalAccounts', accounts)] : []),
      ]),
      el('AutoLogon', [el('Enabled', 'true'), el('LogonCount', '1'), el('Username', 'Administrator'), passwordNode('Password', admin.plain)]),
      el('FirstLogonCommands', firstLogonCommands().map((cmd, i) => listItem('SynchronousCommand', [
        el('Order', String(i + 1)),
        el('CommandLine', cmd),
        el('Description', ['copy the vmgen scripts', 'run config.bat', 'run setup.bat', 'restart'][i]!),
      ]))),
    ]),
  ];
  const settings = (pass: UnattendPass, components: XmlNode[]): XmlNode => el('settings', components, { pass });
  const root = el('unattend', [
    settings('windowsPE', windowsPE),
    settings('specialize', specialize),
    settings('oobeSystem', oobeSystem),
  ], { xmlns: 'urn:schemas-microsoft-com:unattend' });
  return `<?xml version="1.0" encoding="utf-8"?>\n<!-- vmgen: answer file for Windows Setup; it holds passwords in plain text. -->\n${render(root, '')}`;
}
