#!/usr/bin/env bash
# Everything vmgen and its tests need on a Debian 12 host: what the demo needs (setup-demo.sh:
# an LXC build, npm packages, the build), then every other target's tools and the tests' own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-demo.sh --all
# Reference parser for the config tests; apt for the catalog tests.
bash scripts/ensure-debs.sh python3-configobj apt chromium redis-server
# What builds run: mmdebstrap makes root file systems; tar, zstd, pigz and zip pack archives;
# lxc, systemd-container (systemd-nspawn) and podman (with runc and skopeo) start guests for
# `vmgen verify` and the integration tests.
bash scripts/ensure-debs.sh mmdebstrap util-linux tar zstd pigz zip unzip \
  lxc systemd-container podman runc skopeo nftables
# Labs (`vmgen lab up|verify|down`): iproute2 makes the lab's namespace and bridges, ping asks from a
# container's network stack.
bash scripts/ensure-debs.sh iproute2 iputils-ping
# VM builds: partitions and file systems (fdisk's sfdisk, mkfs.*, mtools for the EFI partition: no
# FAT is ever mounted), bootloaders (extlinux, systemd-boot's EFI binary), disk formats (qemu-img; qemu-storage-daemon
# opens cached VMDK and qcow2 images to patch them),
# and for the tests: qemu with OVMF to boot them, virt-xml-validate (libvirt-clients + xmllint).
bash scripts/ensure-debs.sh fdisk e2fsprogs xfsprogs dosfstools mtools ntfs-3g extlinux syslinux-common \
  systemd-boot-efi qemu-utils qemu-system-common qemu-system-x86 ovmf libvirt-clients libxml2-utils
# RedHat-family guests: dnf --installroot makes their root file systems (rpm keeps its database);
# rpmbuild (rpm) and createrepo_c make the synthetic repository the RedHat-path tests build from.
bash scripts/ensure-debs.sh dnf rpm createrepo-c
# Windows guests: xorriso makes the answer ISO for autounattend.xml (ntfs-3g, above, clones base disks);
# swtpm is the TPM 2.0 a Windows 11 machine's run.sh starts, which the qemu tests start for real.
bash scripts/ensure-debs.sh xorriso swtpm
# The configured services' own checkers run on the generated files by the unit tests: named-checkconf
# and named-checkzone (bind9-utils), kea-dhcp4 -t (kea-dhcp4-server). The package's server must not
# serve this host's networks: it stays stopped and disabled here.
bash scripts/ensure-debs.sh bind9-utils kea-dhcp4-server
if [ "$(id -u)" -eq 0 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now kea-dhcp4-server.service >/dev/null 2>&1 || true
fi
# The catalog tests ask apt-cache whether every package name exists: they need package lists.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then apt-get update -qq; fi
