#!/usr/bin/env bash
# Fetches and unpacks a stock Linux test guest: Debian's kernel
# (linux-image-amd64's dependency) and busybox-static, with apt-get
# download + dpkg-deb -x (nothing is installed on the host), into
#   $1 (default build/linux-guest)/{vmlinuz,modules/,busybox}
# Reruns reuse what is there. Prints the directory; exit 1 (with a reason on
# stderr) when the packages cannot be downloaded.
set -eu
dir=${1:-build/linux-guest}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -s "$dir/vmlinuz" ] && [ -x "$dir/busybox" ] && [ -d "$dir/modules" ]; then
    echo "$dir"
    exit 0
fi
dl=$dir/dl
mkdir -p "$dl"
cd "$dl"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
    echo "linux_guest: no linux-image-amd64 in the apt lists (apt-get update?)" >&2
    exit 1
fi
for p in "$kpkg" busybox-static; do
    ls ./"${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p" >/dev/null 2>&1 ||
        { echo "linux_guest: apt-get download $p failed" >&2; exit 1; }
done
rm -rf x && mkdir x
for d in ./*.deb; do dpkg-deb -x "$d" x; done
cp x/boot/vmlinuz-* "$dir/vmlinuz"
cp x/bin/busybox "$dir/busybox"
kver=$(ls x/lib/modules | head -n 1)
rm -rf "$dir/modules" && mkdir -p "$dir/modules"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
    f=$(find "x/lib/modules/$kver" -name "$m.ko*" | head -n 1)
    [ -n "$f" ] || { echo "linux_guest: module $m not in $kpkg" >&2; exit 1; }
    case "$f" in
    *.xz) xz -dc "$f" >"$dir/modules/$m.ko" ;;
    *.zst) zstd -dqc "$f" >"$dir/modules/$m.ko" ;;
    *) cp "$f" "$dir/modules/$m.ko" ;;
    esac
done
echo "$kver" >"$dir/kernel-version"
rm -rf x "$dl"
echo "$dir"
