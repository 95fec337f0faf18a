import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelCmdline, pickKernel, renderExtlinuxConf, renderLoaderConf, renderSystemdBootEntry } from '../../src/disks/boot-config.js';

const cmdline = kernelCmdline({ rootUuid: '11111111-2222-4333-8444-555555555555' });

describe('kernelCmdline', () => {
  it('finds root by UUID, talks on the serial console and keeps eth0 names', () => {
    assert.equal(cmdline, 'root=UUID=11111111-2222-4333-8444-555555555555 ro console=tty0 console=ttyS0,115200 net.ifnames=0');
  });
});

describe('renderExtlinuxConf', () => {
  it('boots one entry at once, on the serial line too', () => {
    assert.equal(renderExtlinuxConf({ kernel: '/boot/vmlinuz-6.1.0-9-amd64', initrd: '/boot/initrd.img-6.1.0-9-amd64', cmdline }), [
      '# Written by vmgen.',
      'SERIAL 0 115200',
      'DEFAULT vmgen',
      'PROMPT 0',
      'TIMEOUT 0',
      '',
      'LABEL vmgen',
      '  LINUX /boot/vmlinuz-6.1.0-9-amd64',
      '  INITRD /boot/initrd.img-6.1.0-9-amd64',
      `  APPEND ${cmdline}`,
      '',
    ].join('\n'));
  });

  it('leaves INITRD out when there is none', () => {
    assert.doesNotMatch(renderExtlinuxConf({ kernel: '/vmlinuz-x', cmdline }), /INITRD/);
  });
});

describe('systemd-boot', () => {
  it('loader.conf picks the vmgen entry without a menu', () => {
    assert.equal(renderLoaderConf(), 'default vmgen.conf\ntimeout 0\nconsole-mode keep\neditor no\n');
  });

  it('the entry names kernel and initrd on the ESP', () => {
    assert.equal(renderSystemdBootEntry({ title: 'vmgen 6.1.0-9-amd64', kernel: '/vmlinuz-6.1.0-9-amd64', initrd: '/initrd.img-6.1.0-9-amd64', cmdline }),
      `title vmgen 6.1.0-9-amd64\nlinux /vmlinuz-6.1.0-9-amd64\ninitrd /initrd.img-6.1.0-9-amd64\noptions ${cmdline}\n`);
  });
});

describe('pickKernel', () => {
  it('takes the newest version by number, not by text, with its initrd', () => {
    const boot = ['config-6.1.0-9-amd64', 'vmlinuz-6.1.0-9-amd64', 'initrd.img-6.1.0-9-amd64', 'vmlinuz-6.1.0-10-amd64', 'initrd.img-6.1.0-10-amd64', 'System.map-6.1.0-10-amd64'];
    assert.deepEqual(pickKernel(boot), { version: '6.1.0-10-amd64', kernel: 'vmlinuz-6.1.0-10-amd64', initrd: 'initrd.img-6.1.0-10-amd64' });
  });

  it('takes the initramfs as dracut names it on Fedora and EL', () => {
    const boot = ['vmlinuz-6.14.0-63.fc42.x86_64', 'initramfs-6.14.0-63.fc42.x86_64.img', 'loader', 'efi'];
    assert.deepEqual(pickKernel(boot), { version: '6.14.0-63.fc42.x86_64', kernel: 'vmlinuz-6.14.0-63.fc42.x86_64', initrd: 'initramfs-6.14.0-63.fc42.x86_64.img' });
  });

  it('returns a kernel without initrd, and nothing for a /boot without kernels', () => {
    assert.deepEqual(pickKernel(['vmlinuz-x']), { version: 'x', kernel: 'vmlinuz-x' });
    assert.equal(pickKernel(['grub', 'vmlinuz', 'config-1']), undefined);
  });
});
