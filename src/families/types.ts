import type { FamilyId } from '../catalog/families.js';
import type { ResolvedSpec } from '../config/resolve.js';
import type { SourceOrText } from '../config/resolve-services.js';

/** A text file to place in the guest; `path` is absolute inside the guest. */
export interface GuestFile {
  path: string;
  content: string;
  /** Octal permission bits; 0o644 when absent. */
  mode?: number;
  /** What `vmgen render` shows instead of `content` when that holds a secret (passwords redacted). */
  review?: string;
}

/** A symbolic link to create in the guest (systemd's enable links, /etc/localtime). */
export interface GuestLink {
  path: string;
  target: string;
}

/** A program run inside the guest's root, never on the host. */
export interface GuestCommand {
  argv: string[];
  /** Fed on stdin; this is how passwords travel, never in argv. */
  input?: string;
  /** True when `input` holds a secret: logs and `vmgen render` show it as <redacted>. */
  secret?: boolean;
  /** Why the command runs, for the step log. */
  why: string;
  /**
   * Set on a `systemctl enable`: where the guest's root is at hand, the applier makes the links
   * itself (linux/enable-offline.ts) and runs the command only for the units it leaves.
   */
  offline?: SystemdEnable;
}

/** `systemctl enable` of `units`, as data the applier can carry out by writing links. */
export interface SystemdEnable {
  units: string[];
  /**
   * The family's vendor unit directories in systemd's order, after /etc and /usr/local. One with
   * `when` is searched only if `when.file` has the line `when.line`: Debian's systemd before 255
   * (split-usr builds) links to /lib/systemd/system, which its dpkg file list then names.
   */
  vendorDirs: Array<{ dir: string; when?: { file: string; line: string } }>;
}

/**
 * A [files] entry: a file or directory beside the config (read at build time through the build's
 * ConfigSources) or an inline text, placed at `path` with its owner, group and mode.
 */
export interface GuestCopy {
  /** Which entry of the config it is, for messages: "[files] site". */
  label: string;
  path: string;
  from: SourceOrText;
  owner: string;
  group: string;
  /** Each file's permission bits; directories get x where r. */
  mode: number;
}

/**
 * Everything a configurator does to a guest, computed without touching it: files first, then
 * links, then the config's copies, then commands in order (ownership of the copies last, once
 * every account exists). The same plan is written by `vmgen render` and applied by a build.
 */
export interface GuestPlan {
  files: GuestFile[];
  links: GuestLink[];
  commands: GuestCommand[];
  copies?: GuestCopy[];
}

export interface GuestContext {
  spec: ResolvedSpec;
  /**
   * Who configures the NICs: the target (lxc.net.N.*, OpenVZ's IP_ADDRESS, podman) or the guest
   * itself (its own network files, as in a VM).
   */
  nicOwner: 'target' | 'guest';
}

/**
 * What a VM of one OS family needs beyond a container's root, since a VM boots its own kernel:
 * the family's names for the kernel, initramfs generator and udev, and how its initramfs is made
 * to hold the drivers of every vmgen VM target.
 */
export interface VmKernel {
  packages: string[];
  /** Placed before any package is installed, so the kernel's own install makes the initramfs with them. */
  setupFiles: GuestFile[];
  /**
   * Run once in the packages layer after installation, where the family's packages do not leave
   * /boot/vmlinuz-VERSION and its initrd as the boot loader step reads them.
   */
  finish?: GuestPlan;
}

/** Work done once in the packages layer rather than in every build, and what keys it. */
export interface LayerPlan {
  key: unknown;
  plan: GuestPlan;
  /**
   * The guest directories the plan changes, when the family knows them: the archive's layer part
   * can then be packed while the plan runs, when these are all directories it leaves out anyway.
   */
  writes?: string[];
}

/** One OS family's configurator: the seed's ConfigDebian, ConfigRedHat, ConfigWindows. */
export interface Configurator {
  id: FamilyId;
  /** Packages the configuration itself needs in the guest (init, firewall, locales…). */
  packages(ctx: GuestContext): string[];
  /** Units the configuration enables at boot (firewall, network). */
  services(ctx: GuestContext): string[];
  plan(ctx: GuestContext): GuestPlan;
  /**
   * Slow work that depends only on what already keys the packages layer (generating locales), done
   * once when the layer is made instead of in every build. `key` joins the layer's cache key.
   */
  layerPlan?(ctx: GuestContext): LayerPlan | undefined;
}

/** A file `vmgen render` writes; `path` is relative to the render directory. */
export interface ReviewFile {
  path: string;
  content: string;
}
