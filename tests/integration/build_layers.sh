#!/usr/bin/env bash
# The include rules of docs/architecture.md ("Layers"), checked on the
# sources: each folder includes only the folders it may.
#   layers-vmm      src/vmm includes no device model or backend (dev/, net/)
#                   and names no e1000 register
#   layers-dev      src/dev includes nothing of src/vmm
#   layers-devif    src/devif includes nothing of vpio but itself
#   layers-lower    src/net, src/switch, src/vhost, src/uplink include no
#                   VMM, device or CLI header
#   layers-guest    guest/ includes from include/vpio only e1000_csb.h
# Builds nothing, boots nothing.
set -u
cd "$(dirname "$0")/../.."
fails=0
check() { # NAME "DESCRIPTION" OUTPUT-OF-THE-SEARCH
    if [ -z "$3" ]; then
        echo "PASS $1"
    else
        echo "FAIL $1: $2: $(echo "$3" | head -n 5 | tr '\n' ' ')"
        fails=1
    fi
}
inc() { grep -rnE "#include \"($2)/" $1 2>/dev/null; }
check layers-vmm "src/vmm includes a device or backend header" "$(inc src/vmm 'dev|net|switch|cli')"
check layers-vmm-regs "src/vmm names an e1000 register" "$(grep -rn 'E1000_' src/vmm)"
check layers-dev "src/dev includes src/vmm" "$(inc src/dev 'vmm|cli')"
check layers-devif "src/devif includes another vpio folder" "$(inc src/devif 'vmm|dev|net|switch|cli|vhost|uplink')"
check layers-lower "a lower layer includes a VMM, device or CLI header" \
    "$(inc 'src/net src/switch src/vhost src/uplink' 'vmm|dev|devif|cli')"
check layers-guest "guest/ includes a host header" \
    "$(grep -rnE '#include "vpio/' guest | grep -v 'vpio/e1000_csb.h')"
exit "$fails"
