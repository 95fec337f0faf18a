import { isWindows, kernelOf, type GuestKernel } from '../../catalog/families.js';
import type { OsEntry } from '../../catalog/schema.js';
import type { Controller, VmLayout } from '../../disks/layout.js';

/*
 * Which of QEMU's controllers stand for the layout's, and how many units each takes: what the
 * renderer writes and what the target's limits (index.ts) check, without the renderer.
 */

export interface ScsiModel {
  qemu: string;
  libvirt: string;
  /** Highest SCSI id the QEMU model accepts. */
  maxUnit: number;
}

/**
 * The SCSI controller in QEMU for each of the layout's models, as SeaBIOS boots it (BIOS guests).
 * QEMU has neither VMware's LSI Logic (LSI53C1030) nor BusLogic; its LSI SAS1068 is driven by the
 * same Fusion-MPT driver family (mptsas next to mptspi), which the VM initramfs carries and Windows
 * has in the box (lsi_sas), and SeaBIOS boots from it (its mpt-scsi driver) as it does from PVSCSI.
 * OVMF does not: see UEFI_SCSI.
 */
export const SCSI_MODELS: Partial<Record<Controller, ScsiModel>> = {
  lsilogic: { qemu: 'mptsas1068', libvirt: 'lsisas1068', maxUnit: 8 },
  buslogic: { qemu: 'mptsas1068', libvirt: 'lsisas1068', maxUnit: 8 },
  lsisas1068: { qemu: 'mptsas1068', libvirt: 'lsisas1068', maxUnit: 8 },
  pvscsi: { qemu: 'pvscsi', libvirt: 'vmpvscsi', maxUnit: 15 },
};

/** virtio-scsi: QEMU's virtio-scsi-pci takes SCSI ids 0 to 255 (VIRTIO_SCSI_MAX_TARGET). */
export const VIRTIO_SCSI: ScsiModel = { qemu: 'virtio-scsi-pci', libvirt: 'virtio-scsi', maxUnit: 255 };

/**
 * The SCSI controller a UEFI guest gets in place of its layout's model, by the kernel it runs;
 * undefined keeps the layout's model (SCSI_MODELS). edk2 builds OVMF with VirtioScsiDxe always and
 * without its PVSCSI, MPT (LSI SAS1068) and LSI 53C895A drivers unless asked (PVSCSI_ENABLE,
 * MPT_SCSI_ENABLE, LSI_SCSI_ENABLE are FALSE in OvmfPkg/OvmfPkgX64.dsc: LSI's always, PVSCSI's and
 * MPT's since edk2-stable202208, commit 57783adf; Debian 12's ovmf is 2022.11), so OVMF offers a disk
 * on any of those three no boot option. Linux: virtio-scsi, whose driver the VM initramfs carries
 * (VM_INITRAMFS_DRIVERS). Windows has no virtio-scsi driver in the box (Red Hat's vioscsi is
 * virtio-win's), so it keeps its model, which OVMF cannot boot from either.
 */
export const UEFI_SCSI: Readonly<Record<GuestKernel, ScsiModel | undefined>> = {
  linux: VIRTIO_SCSI,
  windows: undefined,
};

/** The QEMU controller for a layout's SCSI model on this guest and firmware; undefined for a model that is not SCSI. */
export function qemuScsiModel(model: Controller, os: OsEntry, firmware: VmLayout['firmware']): ScsiModel | undefined {
  const layouts = SCSI_MODELS[model];
  if (layouts === undefined) return undefined;
  return (firmware === 'efi' ? UEFI_SCSI[kernelOf(os)] : undefined) ?? layouts;
}

/** An AHCI controller has six ports. */
export const AHCI_MAX_UNIT = 5;

/** Guests whose NVMe disks libvirt gets as SATA: Windows, which has no virtio-blk driver of its own. */
export function nvmeOnSata(os: OsEntry): boolean {
  return isWindows(os);
}
