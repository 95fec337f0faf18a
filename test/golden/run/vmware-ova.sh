# deploy it to an ESXi host and power it on (put in the host; map the nat and hostonly networks to port groups with --net:nat=PORTGROUP)
ovftool --name=web1 --powerOn /srv/out/web1-vmware.ova vi://root@ESXI-HOST/
