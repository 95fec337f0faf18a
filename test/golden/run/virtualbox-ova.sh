# import the appliance, keeping its MAC addresses
VBoxManage import /srv/out/web1-virtualbox.ova --options keepallmacs
# start it
VBoxManage startvm web1
