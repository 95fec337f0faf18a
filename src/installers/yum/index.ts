import { rpmInstaller } from '../dnf/index.js';
import type { Installer } from '../types.js';

/**
 * yum, for OS entries that name it: the RPM installer with yum as its program. yum's
 * --installroot, --releasever, --setopt and install take dnf's form (yum 4 is dnf), so the
 * argv, the private configuration and the failure messages are dnf's, shared in ../dnf.
 */
export const yumInstaller: Installer = rpmInstaller('yum');
