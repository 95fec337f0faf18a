import { chownSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * A cached layer and a configurator's changes on an overlay of it, small enough for tests that
 * read the overlay's delta (cached disk images, layered archives) and cover every kind of change.
 */

/** A layer-like tree: a kernel for the bootloader, files to change, delete and replace. */
export function fakeLayer(root: string): void {
  for (const d of ['boot', 'etc/ssh', 'etc/gone.d', 'etc/opaque.d', 'srv/file-then-dir', 'usr/lib/systemd/boot/efi', 'var/lib']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'boot/vmlinuz-6.1.0-10-amd64'), 'kernel');
  writeFileSync(join(root, 'boot/initrd.img-6.1.0-10-amd64'), 'initrd');
  writeFileSync(join(root, 'usr/lib/systemd/boot/efi/systemd-bootx64.efi'), 'not really systemd-boot');
  writeFileSync(join(root, 'etc/hostname'), 'layer\n');
  writeFileSync(join(root, 'etc/ssh/ssh_host_rsa_key'), 'shared key');
  writeFileSync(join(root, 'etc/gone.d/a'), 'a');
  writeFileSync(join(root, 'etc/opaque.d/old'), 'old');
  writeFileSync(join(root, 'etc/fstab'), '# container fstab\n');
  writeFileSync(join(root, 'srv/dir-then-file'), 'was a file');
  writeFileSync(join(root, 'srv/file-then-dir/inner'), 'was in a dir');
  writeFileSync(join(root, 'var/lib/untouched'), 'same');
  symlinkSync('hostname', join(root, 'etc/hostname.link'));
}

/** What a configurator does: write, delete, replace one kind of file by another, recreate a directory. */
export function configure(merged: string): void {
  writeFileSync(join(merged, 'etc/hostname'), 'web1\n');
  unlinkSync(join(merged, 'etc/ssh/ssh_host_rsa_key'));
  writeFileSync(join(merged, 'etc/ssh/ssh_host_ed25519_key'), 'own key', { mode: 0o600 });
  rmSync(join(merged, 'etc/gone.d'), { recursive: true });
  rmSync(join(merged, 'etc/opaque.d'), { recursive: true });
  mkdirSync(join(merged, 'etc/opaque.d'));
  writeFileSync(join(merged, 'etc/opaque.d/new'), 'new');
  rmSync(join(merged, 'srv/dir-then-file'));
  mkdirSync(join(merged, 'srv/dir-then-file'));
  writeFileSync(join(merged, 'srv/dir-then-file/x'), 'now a dir');
  rmSync(join(merged, 'srv/file-then-dir'), { recursive: true });
  writeFileSync(join(merged, 'srv/file-then-dir'), 'now a file');
  mkdirSync(join(merged, 'home/caesar'), { recursive: true });
  writeFileSync(join(merged, 'home/caesar/notes'), 'alesia', { mode: 0o640 });
  chownSync(join(merged, 'home/caesar/notes'), 1234, 5678);
  writeFileSync(join(merged, 'etc/fstab'), '# a container fstab the configurator wrote\n');
}

