# the OS template into vzctl's template cache (TEMPLATE in /etc/vz/vz.conf)
tar -xf /srv/out/web1-openvz.tar -C /vz/template/cache debian-12-x86_64-vmgen-web1.tar.gz
# the container's config, 101.conf
tar -xf /srv/out/web1-openvz.tar -C /etc/vz/conf 101.conf
# make container 101 from the template
vzctl create 101 --ostemplate debian-12-x86_64-vmgen-web1
# start it
vzctl start 101
