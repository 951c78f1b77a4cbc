package libvirt

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/footprint-dev/footprint/names"
)

// Virsh talks to one libvirt host, the one at URI, with virsh, outside
// Pulumi: to find what footprint left there (by name, even without any
// Pulumi state) and to check a stack's subnet against the networks the host
// already has.
type Virsh struct {
	URI string
}

// Object is one libvirt object.
type Object struct {
	Kind string // domain, network, pool, volume
	Name string
	Pool string // for volumes
}

func (o Object) String() string {
	if o.Kind == "volume" {
		return fmt.Sprintf("volume %s/%s", o.Pool, o.Name)
	}
	return o.Kind + " " + o.Name
}

// virshTimeout bounds one virsh call: a host that stopped answering (its
// libvirtd hung, its SSH connection stalled) must not hold a run, a
// teardown or a sweep. The longest call, destroying a domain, takes
// libvirt seconds; a remote host's connection a few more.
var virshTimeout = 2 * time.Minute

func (v Virsh) run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, virshTimeout, fmt.Errorf("no answer within %s", virshTimeout))
	defer cancel()
	cmd := exec.CommandContext(ctx, "virsh", append([]string{"-q", "-c", v.URI}, args...)...)
	// With a controlling terminal virsh tries to start a polkit agent, and
	// without polkit that fails, even as root: these calls are not
	// interactive, so they get no terminal. The session is also virsh's
	// process group: at the deadline it goes whole, with the ssh that a
	// qemu+ssh URI starts, which would otherwise keep the output open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("virsh %s: %s: %w", strings.Join(args, " "), v.URI, context.Cause(ctx))
		}
		return "", &virshError{args: strings.Join(args, " "), said: strings.TrimSpace(errorLines(stderr.String(), err)), exit: err}
	}
	return stdout.String(), nil
}

// errGone is a virsh failure about an object that does not exist (any
// more): removing it again is no error.
var errGone = errors.New("no such object")

// virshError is a failed virsh call: what virsh said, wrapping its exit
// status and, where what it said is libvirt's "no such object" (virsh has
// no codes of its own: its text is read here, once), errGone.
type virshError struct {
	args, said string
	exit       error
}

func (e *virshError) Error() string { return "virsh " + e.args + ": " + e.said }

func (e *virshError) Unwrap() []error {
	if goneText(e.said) {
		return []error{e.exit, errGone}
	}
	return []error{e.exit}
}

// goneText: libvirt's messages for VIR_ERR_NO_DOMAIN, _NO_NETWORK,
// _NO_STORAGE_POOL and _NO_STORAGE_VOL.
func goneText(msg string) bool {
	return strings.Contains(msg, "not found") || strings.Contains(msg, "no domain with matching") ||
		strings.Contains(msg, "no network with matching") || strings.Contains(msg, "no storage")
}

// errorLines is virsh's error on one line: its first two lines, as the
// first is often only "failed to connect to the hypervisor" and the
// second says why.
func errorLines(out string, err error) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && len(lines) < 2 {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return err.Error()
	}
	return strings.Join(lines, ": ")
}

func (v Virsh) names(ctx context.Context, args ...string) ([]string, error) {
	out, err := v.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// DomainDescription marks a domain with its stack, because names alone
// are ambiguous between stacks "ci" and "ci-docker".
func DomainDescription(prefix string) string { return "footprint stack " + prefix }

// Find lists what belongs to the stack with this prefix, or with prefix ""
// to everything footprint left on the host, in the order it must be removed:
// domains, volumes, pools, networks. A stack's pool and network carry its
// prefix exactly, its volumes live in its pool, and its domains carry the
// prefix in their name and description. A domain named like the stack's
// whose description cannot be read may be another stack's: it is not
// found but listed in unread, with why.
func (v Virsh) Find(ctx context.Context, prefix string) (found []Object, unread []string, err error) {
	mine := func(name string) bool {
		if prefix == "" {
			return names.Owned(name)
		}
		return name == prefix
	}
	domains, err := v.names(ctx, "list", "--all", "--name")
	if err != nil {
		return nil, nil, err
	}
	for _, d := range domains {
		if !names.Owned(d) || prefix != "" && !strings.HasPrefix(d, prefix+"-") {
			continue
		}
		if prefix != "" {
			mine, err := v.describedAs(ctx, d, prefix)
			if err != nil && !errors.Is(err, errGone) {
				unread = append(unread, fmt.Sprintf("domain %s (%v)", d, err))
			}
			if !mine {
				continue // another stack whose name starts like this one's, or unknown
			}
		}
		found = append(found, Object{Kind: "domain", Name: d})
	}
	pools, err := v.names(ctx, "pool-list", "--all", "--name")
	if err != nil {
		return nil, nil, err
	}
	var ours []Object
	for _, p := range pools {
		if !mine(p) {
			continue
		}
		ours = append(ours, Object{Kind: "pool", Name: p})
		vols, err := v.volumes(ctx, p)
		if err != nil {
			continue // an inactive pool lists nothing; its volumes go with it
		}
		for _, vol := range vols {
			// A dir pool lists every file of its folder; only the stack's
			// names are the stack's (the pool's name is its prefix).
			if OwnVolume(p, vol) {
				found = append(found, Object{Kind: "volume", Name: vol, Pool: p})
			}
		}
	}
	found = append(found, ours...)
	nets, err := v.names(ctx, "net-list", "--all", "--name")
	if err != nil {
		return nil, nil, err
	}
	for _, n := range nets {
		if mine(n) {
			found = append(found, Object{Kind: "network", Name: n})
		}
	}
	return found, unread, nil
}

// describedAs tells whether domain d carries the stack's description.
func (v Virsh) describedAs(ctx context.Context, d, prefix string) (bool, error) {
	desc, err := v.run(ctx, "desc", d)
	return err == nil && strings.TrimSpace(desc) == DomainDescription(prefix), err
}

// DomainXML is a domain's live definition as libvirt reports it: the
// virtual hardware a figure was measured on, after every default was filled.
func (v Virsh) DomainXML(ctx context.Context, name string) (string, error) {
	return v.run(ctx, "dumpxml", name)
}

func (v Virsh) volumes(ctx context.Context, pool string) ([]string, error) {
	out, err := v.run(ctx, "vol-list", "--pool", pool)
	if err != nil {
		return nil, err
	}
	var vols []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			vols = append(vols, f[0])
		}
	}
	return vols, nil
}

// Remove deletes one object; an object already gone is not an error.
func (v Virsh) Remove(ctx context.Context, o Object) error {
	var steps [][]string
	switch o.Kind {
	case "domain":
		steps = [][]string{{"destroy", o.Name}, {"undefine", o.Name, "--nvram"}}
	case "volume":
		steps = [][]string{{"vol-delete", "--pool", o.Pool, o.Name}}
	case "pool":
		steps = [][]string{{"pool-destroy", o.Name}, {"pool-delete", o.Name}, {"pool-undefine", o.Name}}
	case "network":
		steps = [][]string{{"net-destroy", o.Name}, {"net-undefine", o.Name}}
	default:
		return fmt.Errorf("unknown kind %q", o.Kind)
	}
	var last error
	for i, s := range steps {
		if _, err := v.run(ctx, s...); err != nil {
			// stopping what is not running fails harmlessly; the final step must work
			if i == len(steps)-1 && !errors.Is(err, errGone) {
				last = err
			}
		}
	}
	return last
}

// Network is a libvirt network and its IPv4 subnets.
type Network struct {
	Name    string
	Subnets []netip.Prefix
}

// Networks lists the host's libvirt networks with their subnets.
func (v Virsh) Networks(ctx context.Context) ([]Network, error) {
	names, err := v.names(ctx, "net-list", "--all", "--name")
	if err != nil {
		return nil, err
	}
	var out []Network
	for _, n := range names {
		x, err := v.run(ctx, "net-dumpxml", n)
		if err != nil {
			return nil, err
		}
		subnets, err := parseNetworkSubnets(x)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", n, err)
		}
		out = append(out, Network{Name: n, Subnets: subnets})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func parseNetworkSubnets(doc string) ([]netip.Prefix, error) {
	var n struct {
		IPs []struct {
			Address string `xml:"address,attr"`
			Prefix  string `xml:"prefix,attr"`
			Netmask string `xml:"netmask,attr"`
			Family  string `xml:"family,attr"`
		} `xml:"ip"`
	}
	if err := xml.Unmarshal([]byte(doc), &n); err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, ip := range n.IPs {
		if ip.Family == "ipv6" {
			continue
		}
		addr, err := netip.ParseAddr(ip.Address)
		if err != nil || !addr.Is4() {
			continue
		}
		bits := -1
		if ip.Prefix != "" {
			fmt.Sscanf(ip.Prefix, "%d", &bits)
		} else if ip.Netmask != "" {
			if m, err := netip.ParseAddr(ip.Netmask); err == nil {
				b := m.As4()
				bits = 0
				for _, x := range b {
					for ; x&0x80 != 0; x <<= 1 {
						bits++
					}
				}
			}
		}
		if bits < 0 || bits > 32 {
			continue
		}
		out = append(out, netip.PrefixFrom(addr, bits).Masked())
	}
	return out, nil
}

// Overlapping returns the first network, other than the stack's own, whose
// subnet overlaps cidr.
func Overlapping(nets []Network, cidr netip.Prefix, own string) (Network, netip.Prefix, bool) {
	for _, n := range nets {
		if n.Name == own {
			continue
		}
		for _, s := range n.Subnets {
			if s.Overlaps(cidr) {
				return n, s, true
			}
		}
	}
	return Network{}, netip.Prefix{}, false
}
