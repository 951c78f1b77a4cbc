package libvirt

import (
	"net/netip"
	"testing"
)

func TestParseNetworkSubnets(t *testing.T) {
	doc := `<network>
  <name>default</name>
  <forward mode='nat'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
  <ip address='10.77.0.1' prefix='24'/>
  <ip family='ipv6' address='fd00::1' prefix='64'/>
</network>`
	got, err := parseNetworkSubnets(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "192.168.122.0/24" || got[1].String() != "10.77.0.0/24" {
		t.Errorf("subnets %v", got)
	}
	if _, err := parseNetworkSubnets("<network"); err == nil {
		t.Error("broken XML accepted")
	}
}

func TestOverlapping(t *testing.T) {
	nets := []Network{
		{Name: "default", Subnets: []netip.Prefix{netip.MustParsePrefix("192.168.122.0/24")}},
		{Name: "footprint-ci", Subnets: []netip.Prefix{netip.MustParsePrefix("10.93.208.0/24")}},
		{Name: "lab", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
	}
	if n, s, ok := Overlapping(nets, netip.MustParsePrefix("10.93.208.0/24"), "footprint-ci"); !ok || n.Name != "lab" || s.String() != "10.0.0.0/8" {
		t.Errorf("got %v %v %v, want the lab network (the stack's own network does not count)", n, s, ok)
	}
	if _, _, ok := Overlapping(nets[:2], netip.MustParsePrefix("10.93.208.0/24"), "footprint-ci"); ok {
		t.Error("the stack's own network counted as an overlap")
	}
	if n, _, ok := Overlapping(nets, netip.MustParsePrefix("192.168.122.128/25"), "footprint-x"); !ok || n.Name != "default" {
		t.Errorf("a subnet inside default not found: %v", n)
	}
	if _, _, ok := Overlapping(nets, netip.MustParsePrefix("172.20.0.0/24"), "footprint-x"); ok {
		t.Error("a free subnet reported as overlapping")
	}
}

func TestNamesFitLinux(t *testing.T) {
	if b := BridgeName("footprint-a-very-long-stack-name-indeed"); len(b) > 15 {
		t.Errorf("bridge %q is longer than 15 characters", b)
	}
	if BridgeName("footprint-ci") == BridgeName("footprint-ci-docker") {
		t.Error("two stacks share a bridge name")
	}
	if ConsoleLogPath("qemu+ssh://lab/system", "x") != "" || QEMULogPath("qemu+ssh://lab/system", "x") != "" {
		t.Error("a remote host's logs cannot be read here")
	}
	if c, q := ConsoleLogPath("qemu:///system", "d"), QEMULogPath("qemu:///system", "d"); c != "/var/log/libvirt/qemu/d-console.log" || q != "/var/log/libvirt/qemu/d.log" {
		t.Errorf("system logs at %q and %q", c, q)
	}
}
