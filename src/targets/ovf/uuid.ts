import { createHash } from 'node:crypto';

/**
 * A UUID that depends only on its inputs (RFC 9562 version 5 layout over SHA-1), so a rendered
 * descriptor is the same on every run. VirtualBox gives imported machines and disks new UUIDs
 * (ApplianceImplImport.cpp, i_importVBoxMachine: "we always generate new ones on import"), so
 * two imports of one appliance do not collide.
 */
export function stableUuid(...parts: string[]): string {
  const bytes = createHash('sha1').update(`vmgen\u0000${parts.join('\u0000')}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
