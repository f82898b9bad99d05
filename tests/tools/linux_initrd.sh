#!/usr/bin/env bash
# Builds the busybox initramfs of the stock-Linux test guest:
#   linux_initrd.sh GUEST_DIR OUT.cpio.gz
# GUEST_DIR is what tests/tools/linux_guest.sh made. The guest's init mounts
# proc/sys/devtmpfs, insmods the virtio-net modules in dependency order,
# sets eth0 up with the address from the kernel command line
# (vpio.ip=A.B.C.D/N), prints "VPIO-READY <ip>" and then runs a shell on the
# console: the test drives it through QEMU's standard input.
set -eu
src=$1 out=$2
work=$(mktemp -d /tmp/vpio-initrd.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,proc,sys,dev,tmp,www,lib/modules}
cp "$src/busybox" "$work/bin/busybox"
for a in sh mount insmod ip ping wget httpd md5sum cat echo sleep dd nslookup grep sed head \
    poweroff ifconfig seq awk ls tr; do
    ln -s busybox "$work/bin/$a"
done
cp "$src"/modules/*.ko "$work/lib/modules/"
cat >"$work/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
    insmod /lib/modules/$m.ko || echo "VPIO-ERROR insmod $m"
done
ip=$(sed -n 's/.*vpio\.ip=\([0-9./]*\).*/\1/p' /proc/cmdline)
for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
ip link set lo up
ip link set eth0 up
ip addr add "$ip" dev eth0
echo "VPIO-READY $ip"
exec sh </dev/console >/dev/console 2>&1
INIT
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
