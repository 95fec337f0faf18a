# unpack the disks and web1.xml into /var/lib/libvirt/images, where the XML names them
tar -xf /srv/out/web1-qemu.tar.gz -C /var/lib/libvirt/images
# define the machine in libvirt
virsh define /var/lib/libvirt/images/web1.xml
# start it
virsh start web1
