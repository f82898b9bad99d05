#!/usr/bin/env bash
# Installs the Debian packages vpio needs, when run as root and one is missing.
# Usage: scripts/deps.sh [build|test|bench]   (default: test, which includes build)
set -eu
want=${1:-test}
build_pkgs="build-essential clang libclang-rt-14-dev libcmocka-dev libpcap-dev"
test_pkgs="qemu-system-x86 iproute2 dpdk" # dpdk: dpdk-testpmd, the vhost-user peer of the virtio-net tests
bench_pkgs="gnuplot-nox"
pkgs="$build_pkgs"
case "$want" in
build) ;;
test) pkgs="$pkgs $test_pkgs" ;;
bench|all) pkgs="$pkgs $test_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "vpio: missing Debian packages:$missing" >&2
    echo "vpio: run as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "vpio: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
