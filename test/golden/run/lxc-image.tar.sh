# a folder for the image
mkdir -p /srv/out/web1-image
# unpack meta.tar.xz and rootfs.tar.xz
tar -xf /srv/out/web1-lxc.image.tar -C /srv/out/web1-image
# make the container web1 under /var/lib/lxc from the image
lxc-create -n web1 -P /var/lib/lxc -f /dev/null -t local -- --metadata /srv/out/web1-image/meta.tar.xz --fstree /srv/out/web1-image/rootfs.tar.xz
# start it (its NICs join lxcbr0: that bridge must exist here)
lxc-start -n web1 -P /var/lib/lxc
