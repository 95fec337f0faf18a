# add the box to Vagrant as web1
vagrant box add --name web1 /srv/out/web1-qemu.box
# a Vagrant project folder
mkdir -p /srv/out/web1
# go into it
cd /srv/out/web1
# a Vagrantfile that uses the box
vagrant init web1
# start it with vagrant-libvirt
vagrant up --provider libvirt
