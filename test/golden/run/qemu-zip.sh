# unpack the disks and web1.xml into /var/lib/libvirt/images, where the XML names them
unzip -q /srv/out/web1-qemu.zip -d /var/lib/libvirt/images
# define the machine in libvirt
virsh define /var/lib/libvirt/images/web1.xml
# start it
virsh start web1
