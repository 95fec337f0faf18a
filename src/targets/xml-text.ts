/** Text inside the XML files targets write: OVF descriptors and libvirt's domain XML. */

/** Escapes text and attribute values; refuses what XML 1.0 cannot hold at all. */
export function esc(s: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) throw new Error(`${JSON.stringify(s)} contains a character XML cannot hold`);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Text for inside an XML comment, on one line, where "--" may not appear. */
export function comment(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/-{2,}/g, '-');
}
