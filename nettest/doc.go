// Package nettest holds the real-NAT testbed (issue 14, `make test-net`):
// Linux network namespaces joined by veth pairs and bridges, a bridge in
// a namespace of its own as "the internet", home routers that
// masquerade with iptables, and real `khantara daemon` processes run in
// the namespaces with `ip netns exec`. It has no code outside its tests.
// They run only with KHANTARA_TESTNET=1 (`make test-net` sets it) and
// need root, ip (iproute2) and iptables: without them they skip, or fail
// when KHANTARA_NETNS=required.
package nettest
