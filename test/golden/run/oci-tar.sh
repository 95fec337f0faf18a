# load the image web1:latest
podman load -i /srv/out/web1-oci.tar
# a network for eth0's address
podman network create --subnet 192.168.1.0/24 --gateway 192.168.1.1 web1
# start it, with systemd
podman run -d --name web1 --systemd=always --cap-add NET_ADMIN --hostname web1 --dns 192.168.1.254 --network web1 --ip 192.168.1.2 web1:latest
