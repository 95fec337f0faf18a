# its folder under /var/lib/lxc, the LXC path it was built for
mkdir -p /var/lib/lxc/web1
# unpack config, fstab and rootfs into it
tar -xf /srv/out/web1-lxc.tar -C /var/lib/lxc/web1
# start it (its NICs join lxcbr0: that bridge must exist here)
lxc-start -n web1 -P /var/lib/lxc
