import type { OsEntry } from '../../catalog/schema.js';
import { VmgenError } from '../../errors.js';

/**
 * What differs between Windows releases, keyed by the OS table's `release`. The generated scripts
 * pick their commands from here, never from the OS id, so an admin's extra OS entry for an existing
 * release works unchanged.
 */
export interface WindowsRelease {
  /** XP has only `netsh firewall`; Vista and later have `netsh advfirewall`. */
  firewall: 'netsh-firewall' | 'advfirewall';
  /** XP's `netsh interface ip` takes addr=/register=; Vista+ `netsh interface ipv4` takes address=. */
  netsh: 'xp' | 'vista';
  /**
   * Default names of the first and later adapters (the second is "BASE 2"). Windows names them in
   * the order it finds them, which follows the PCI slots vmgen assigns in NIC order.
   */
  adapterBase: string;
  /**
   * How config.bat finds an adapter's connection name from its MAC address: wmic is the only way
   * on XP (no PowerShell) and 7 (PowerShell 2 has no Get-NetAdapter); it is gone from Windows 11
   * 24H2, where Get-NetAdapter (Windows 8 on) is.
   */
  adapterLookup: 'wmic' | 'powershell';
  /** wmic is gone from Windows 11 24H2; PowerShell's Rename-Computer needs PowerShell 3 (Windows 8). */
  rename: 'wmic' | 'powershell';
  /** The All Users Startup folder on the system volume, relative to its root. */
  startupDir: string;
  /** Windows Setup reads autounattend.xml from removable media from Vista on. */
  autounattend: boolean;
  /** The Administrator account is disabled after setup from Vista on; setting its password means to use it. */
  activateAdministrator: boolean;
  /** OOBE settings that hide the account and online screens exist from Windows 8 on. */
  modernOobe: boolean;
  /**
   * A Windows Server release: it has Install-WindowsFeature and the DNS, DHCP and IIS roles that
   * [dns], [dhcp] and [web] configure (client releases have none of the three as roles).
   */
  server: boolean;
  /**
   * What [files] and first-boot [scripts] use: PowerShell runs .ps1 scripts (XP ships none), and
   * icacls gives a file its owner (from Vista and Server 2003 SP2 on; XP has only cacls).
   */
  powershell: boolean;
  icacls: boolean;
  /** What Windows Setup checks of the machine before it installs; undefined where it checks nothing a VM could lack. */
  hardwareChecks?: WindowsHardwareChecks;
}

/**
 * Windows 11's minimum system requirements, which its Setup enforces ("This PC can't run Windows
 * 11"): https://www.microsoft.com/en-us/windows/windows-11-specifications (TPM 2.0, UEFI with
 * Secure Boot, 4 GB of memory, 64 GB of storage, two cores).
 */
export interface WindowsHardwareChecks {
  tpm2: boolean;
  secureBoot: boolean;
  minRamMiB: number;
  minDiskMiB: number;
  minCpus: number;
}

const XP_STARTUP = 'Documents and Settings/All Users/Start Menu/Programs/Startup';
const VISTA_STARTUP = 'ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp';

const SEVEN: WindowsRelease = {
  firewall: 'advfirewall', netsh: 'vista', adapterBase: 'Local Area Connection', adapterLookup: 'wmic', rename: 'wmic',
  startupDir: VISTA_STARTUP, autounattend: true, activateAdministrator: true, modernOobe: false, server: false, powershell: true, icacls: true,
};
const TEN: WindowsRelease = { ...SEVEN, adapterBase: 'Ethernet', adapterLookup: 'powershell', rename: 'powershell', modernOobe: true };
const ELEVEN: WindowsRelease = {
  ...TEN,
  hardwareChecks: { tpm2: true, secureBoot: true, minRamMiB: 4096, minDiskMiB: 64 * 1024, minCpus: 2 },
};

export const WINDOWS_RELEASES: Readonly<Record<string, WindowsRelease>> = {
  xp: {
    firewall: 'netsh-firewall', netsh: 'xp', adapterBase: 'Local Area Connection', adapterLookup: 'wmic', rename: 'wmic',
    startupDir: XP_STARTUP, autounattend: false, activateAdministrator: false, modernOobe: false, server: false, powershell: false, icacls: false,
  },
  '7': SEVEN,
  '10': TEN,
  '11': ELEVEN,
  '2022': { ...TEN, server: true },
};

export function windowsRelease(os: OsEntry): WindowsRelease {
  const release = WINDOWS_RELEASES[os.release];
  if (release === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `${os.label}: vmgen knows no Windows release "${os.release}"`, {
      hint: `known releases: ${Object.keys(WINDOWS_RELEASES).join(', ')}`,
    });
  }
  return release;
}

/** The name Windows gives the adapter at `index` (0-based) by default. */
export function adapterName(release: WindowsRelease, index: number): string {
  return index === 0 ? release.adapterBase : `${release.adapterBase} ${index + 1}`;
}
