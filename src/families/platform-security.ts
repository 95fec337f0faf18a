import { isWindows } from '../catalog/families.js';
import type { OsEntry } from '../catalog/schema.js';
import { windowsRelease } from './windows/releases.js';
import type { VmLayout } from '../disks/layout.js';

/**
 * The two platform features Windows 11 requires of a machine: a TPM 2.0 and UEFI Secure Boot.
 * What the guest needs comes from the Windows release table; what a target's description file can
 * give comes from its commander. Where they differ, the answer file tells Windows Setup to skip the
 * check (autounattend.ts), so no target silently builds a machine Setup refuses.
 */
export interface PlatformSecurity {
  tpm2: boolean;
  secureBoot: boolean;
}

export const NO_PLATFORM_SECURITY: PlatformSecurity = Object.freeze({ tpm2: false, secureBoot: false });

/** What the guest OS's installer insists on. */
export function platformNeeds(os: OsEntry): PlatformSecurity {
  if (!isWindows(os)) return NO_PLATFORM_SECURITY;
  const checks = windowsRelease(os).hardwareChecks;
  return checks === undefined ? NO_PLATFORM_SECURITY : { tpm2: checks.tpm2, secureBoot: checks.secureBoot };
}

/**
 * What a target gives this machine: its commander's capabilities, Secure Boot only under UEFI
 * (it is a UEFI feature; a BIOS machine has nothing to enforce it).
 */
export function platformOffered(offers: PlatformSecurity | undefined, layout: VmLayout): PlatformSecurity {
  if (offers === undefined) return NO_PLATFORM_SECURITY;
  return { tpm2: offers.tpm2, secureBoot: offers.secureBoot && layout.firmware === 'efi' };
}

/** What the machine gets: what the guest needs, as far as the target can give it. */
export function platformFor(os: OsEntry, offers: PlatformSecurity | undefined, layout: VmLayout): PlatformSecurity {
  const needs = platformNeeds(os);
  const offered = platformOffered(offers, layout);
  return { tpm2: needs.tpm2 && offered.tpm2, secureBoot: needs.secureBoot && offered.secureBoot };
}
