/** Formats a build's disk images can be in before the target packs them. */
export type DiskFormat = 'raw' | 'vmdk' | 'qcow2';

/** A bootable disk image made by the build; a target converts it if its format is not the one it ships. */
export interface DiskImage {
  /** The layout's disk name (hdd0…). */
  disk: string;
  path: string;
  /** A vmdk here is monolithicSparse. */
  format: DiskFormat;
}
