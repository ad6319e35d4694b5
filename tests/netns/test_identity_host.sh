#!/usr/bin/env bash
# The reserved identity `host` comes from the interfaces of the machine
# (namespace) flowd runs in: addresses added to a veth, IPv4 and IPv6, are
# host (1); a neighbour is world (2); an identities-file entry for one of
# the host's addresses wins; after an address is removed, a reload no
# longer calls it host.
. "$(dirname "$0")/../lib/testlib.sh"
HELPER=$BUILD/tests/test_identity
if [ "$(id -u)" != 0 ]; then
	fail "identity host: needs root (network namespaces)"
	t_done
fi
N=idh$T_ID P=idp$T_ID
netns_add "$N" && netns_add "$P" || { fail "identity host: namespaces"; t_done; }
ip link add va$T_ID netns "$N" type veth peer name vb$T_ID netns "$P"
ip -n "$N" addr add 198.18.0.1/24 dev va$T_ID
ip -n "$N" addr add 198.18.7.9/32 dev va$T_ID
ip -n "$N" addr add 2001:db8::1/64 dev va$T_ID nodad
ip -n "$P" addr add 198.18.0.2/24 dev vb$T_ID
ip -n "$N" link set va$T_ID up

lookup() { ip netns exec "$N" "$HELPER" lookup "$@"; }

got=$(lookup - 198.18.0.1 198.18.7.9 2001:db8::1 127.0.0.1 ::1 198.18.0.2 2001:db8::2)
want="198.18.0.1 1 reserved:host
198.18.7.9 1 reserved:host
2001:db8::1 1 reserved:host
127.0.0.1 1 reserved:host
::1 1 reserved:host
198.18.0.2 2 reserved:world
2001:db8::2 2 reserved:world"
check_eq "identity host: detected from the namespace's interfaces" "$got" "$want"

cat >"$T_TMP/ids.yaml" <<'YAML'
endpoints:
  - {addresses: [198.18.7.9], namespace: infra, labels: {app: vip}, identity: 4242}
YAML
got=$(lookup "$T_TMP/ids.yaml" 198.18.7.9 198.18.0.1)
check_eq "identity host: a file entry wins over detection" "$got" \
"198.18.7.9 4242 k8s:app=vip k8s:io.kubernetes.pod.namespace=infra
198.18.0.1 1 reserved:host"

ip -n "$N" addr del 198.18.0.1/24 dev va$T_ID
check_eq "identity host: a removed address is world after a reload" "$(lookup - 198.18.0.1)" \
	"198.18.0.1 2 reserved:world"
t_done
