#!/usr/bin/env bash
# The two switches of uplink_two_hosts.sh joined by a Linux VXLAN device on
# each side (the uplink's interface is the VXLAN device, id 42, UDP port
# 4789, over the veth wire): guests on both sides ping and stream UDP.
#   uplink-overlay-MODE-ping, uplink-overlay-MODE-udp (see uplink_two_hosts.sh)
# MODE: UPLINK_MODES (default "packet xdp").
OVERLAY=1 UPLINK_MODES=${UPLINK_MODES:-packet xdp} exec "$(dirname "$0")/uplink_two_hosts.sh"
