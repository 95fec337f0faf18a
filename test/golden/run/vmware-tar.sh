# a folder for the machine
mkdir -p /srv/out/web1
# unpack web1.vmx and its disks
tar -xf /srv/out/web1-vmware.tar -C /srv/out/web1
# start it in VMware Workstation (Player: -T player, Fusion: -T fusion)
vmrun -T ws start /srv/out/web1/web1.vmx
