package libvirt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
)

// Name is the backend's registry name and the key of its section of the
// configuration: footprint:libvirt.
const Name = "libvirt"

// Settings are the keys of the footprint:libvirt section.
type Settings struct {
	URI        string // libvirt connection URI
	DomainType string // kvm, or qemu (software emulation) where KVM does not work
	PoolPath   string // folder of the stack's storage pool
	// TBCacheMiB is the size of QEMU's translation cache under software
	// emulation (libvirt's <tcg><tb-cache>); 0 keeps QEMU's default, 1 GiB.
	TBCacheMiB int
	// Limits plan the stack in waves that fit the host.
	Limits
}

// Backend creates machines on the libvirt host its settings name.
type Backend struct {
	Settings
	suffix string // of its Pulumi resource names, where a stack has several hosts
	// refused is why a host named by a run's record (a lost one, see
	// Fleet.Only) is not reached: nothing is done there.
	refused error
}

var settingKeys = []string{"domainType", "guestOverheadMiB", "hosts", "maxGuests", "memoryShare", "poolPath", "tbCacheMiB", "uri", "vcpusPerCore"}

// New reads the footprint:libvirt section (a JSON object, "" for none) of
// the stack with this prefix, for one host; every error names its key.
func New(prefix, raw string) (Backend, error) {
	b, hosts, err := parse(prefix, raw)
	if err == nil && hosts != nil {
		err = fmt.Errorf("%s: several hosts need libvirt.Open", key("hosts"))
	}
	return b, err
}

// Open reads the section as New does, and with the key hosts (a list of
// maps of the same keys, each with its uri) gives a Fleet of those hosts,
// each inheriting the section's other keys.
func Open(prefix, raw string) (machine.Backend, error) {
	b, hosts, err := parse(prefix, raw)
	if err != nil || hosts == nil {
		return b, err
	}
	var f Fleet
	for i, h := range hosts {
		m, ok := h.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want a map of keys with a uri, not %v", key(fmt.Sprintf("hosts[%d]", i)), h)
		}
		hb := Backend{Settings: b.Settings, suffix: fmt.Sprintf("-h%d", i)}
		if i == 0 {
			hb.suffix = "" // the first host's resources keep a single host's names
		}
		if _, ok := m["uri"]; !ok {
			return nil, fmt.Errorf("%s: not set", key(fmt.Sprintf("hosts[%d].uri", i)))
		}
		if err := hb.apply(m, fmt.Sprintf("hosts[%d].", i)); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(f, func(o Backend) bool { return o.URI == hb.URI }) {
			return nil, fmt.Errorf("%s: %s is listed twice", key(fmt.Sprintf("hosts[%d].uri", i)), hb.URI)
		}
		f = append(f, hb)
	}
	if len(f) == 0 {
		return nil, fmt.Errorf("%s: is empty (want at least one host, or leave the key out)", key("hosts"))
	}
	return f, nil
}

// parse reads the section's keys but hosts, which it returns as given.
func parse(prefix, raw string) (Backend, []any, error) {
	b := Backend{Settings: Settings{URI: "qemu:///system", DomainType: "kvm", PoolPath: "/var/lib/libvirt/images/" + prefix, Limits: defaultLimits()}}
	if strings.TrimSpace(raw) == "" {
		return b, nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return Backend{}, nil, fmt.Errorf("%s: want a map of keys (%s), not %q", key(""), strings.Join(settingKeys, ", "), raw)
	}
	hosts, has := m["hosts"]
	delete(m, "hosts")
	if err := b.apply(m, ""); err != nil {
		return Backend{}, nil, err
	}
	if !has {
		return b, nil, nil
	}
	list, ok := hosts.([]any)
	if !ok || len(list) == 0 {
		return Backend{}, nil, fmt.Errorf("%s: want a list of hosts, each a map with a uri, not %v", key("hosts"), hosts)
	}
	return b, list, nil
}

// apply sets the keys of m; errors name them after at.
func (b *Backend) apply(m map[string]any, at string) error {
	if err := config.ApplySection(m, func(k string) string { return key(at + k) }, b.set); err != nil {
		return err
	}
	if b.TBCacheMiB > 0 && b.DomainType != "qemu" {
		return fmt.Errorf("%s: applies to software emulation only (domainType qemu), not %s", key(at+"tbCacheMiB"), b.DomainType)
	}
	return nil
}

// key is the full name of one of the section's keys, as errors name it.
func key(k string) string { return config.SectionKey(Name, k) }

func (s *Settings) set(k, v string) error {
	switch k {
	case "uri":
		if err := checkURI(v); err != nil {
			return err
		}
		s.URI = v
	case "domainType":
		if v != "kvm" && v != "qemu" {
			return fmt.Errorf("%q is not allowed (want kvm, or qemu on hosts without working KVM)", v)
		}
		s.DomainType = v
	case "poolPath":
		if err := checkPoolPath(v); err != nil {
			return err
		}
		s.PoolPath = filepath.Clean(v)
	case "memoryShare":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return fmt.Errorf("%q is not a share of the host's memory (want above 0, at most 1)", v)
		}
		s.MemoryShare = f
	case "vcpusPerCore":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 64 {
			return fmt.Errorf("%q is not a number of vCPUs per core (want above 0, at most 64)", v)
		}
		s.VCPUsPerCore = f
	case "tbCacheMiB":
		n, err := strconv.Atoi(v)
		// QEMU clamps the cache to 2 GiB on x86-64 hosts (measured: 3072 gave 2048).
		if err != nil || n < 0 || n > 2048 {
			return fmt.Errorf("%q is not a size in MiB from 0 (QEMU's default, 1024) to 2048 (QEMU's most on x86-64)", v)
		}
		s.TBCacheMiB = n
	case "maxGuests", "guestOverheadMiB":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<20 {
			return fmt.Errorf("%q is not a whole number of at least 0", v)
		}
		if k == "maxGuests" {
			s.MaxGuests = n
		} else {
			s.GuestOverheadMiB = n
		}
	default:
		return fmt.Errorf("unknown key (known: %s)", strings.Join(settingKeys, ", "))
	}
	return nil
}

// Name implements machine.Backend.
func (Backend) Name() string { return Name }

// LocalImage implements machine.LocalImage: libvirt boots footprint:image.
func (Backend) LocalImage() {}

// Describe implements machine.Backend.
func (b Backend) Describe() map[string]string {
	d := map[string]string{"uri": b.URI, "domainType": b.DomainType}
	if b.TBCacheMiB > 0 {
		d["tbCacheMiB"] = strconv.Itoa(b.TBCacheMiB) // it changes every timing under emulation
	}
	return d
}

// Preflight implements machine.Backend: a remote host's guests can be
// reached (its SSH key known, a key to log in with), the host answers, the
// stack's subnet overlaps none of the networks it already has, and the
// pool's folder is the stack's to use.
func (b Backend) Preflight(ctx context.Context, env machine.Environment) error {
	if _, err := b.Tunnel(); err != nil {
		return err
	}
	nets, err := b.virsh().Networks(ctx)
	if err != nil {
		return fmt.Errorf("%s: cannot reach libvirt at %s: %w", key("uri"), b.URI, err)
	}
	if n, s, clash := Overlapping(nets, env.CIDR, NetworkName(env.Prefix)); clash {
		return fmt.Errorf("%s:%s: %s overlaps libvirt network %q (%s) on %s; choose another subnet",
			config.Namespace, config.KeyNetworkCIDR, env.CIDR, n.Name, s, b.URI)
	}
	return b.checkPool(ctx, env.Prefix)
}

// Sweep implements machine.Backend: every object of the prefix found by
// name, removed in order (domains, volumes, pools, networks), a domain with
// the logs QEMU kept of it on this machine. A domain it cannot tell is the
// stack's is left, and the sweep fails naming it.
func (b Backend) Sweep(ctx context.Context, prefix string, log machine.Logf) ([]string, error) {
	if b.refused != nil {
		return nil, b.refused
	}
	v := b.virsh()
	objs, unread, err := v.Find(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("looking for footprint's objects on %s: %w", b.URI, err)
	}
	var removed []string
	var errs []error
	for _, u := range unread {
		log("left %s: its description, which names its stack, cannot be read", u)
		errs = append(errs, fmt.Errorf("left %s: its description cannot be read", u))
	}
	for _, obj := range objs {
		if err := v.Remove(ctx, obj); err != nil {
			log("could not remove %s: %v", obj, err)
			errs = append(errs, err)
			continue
		}
		log("removed %s", obj)
		removed = append(removed, obj.String())
		if obj.Kind == "domain" {
			b.removeLogs(obj.Name)
		}
	}
	if len(errs) > 0 {
		return removed, errs[0]
	}
	return removed, nil
}

// removeLogs removes the serial console log and QEMU's log libvirt keeps of
// a domain, where they are on this machine. Only a sweep does: a run copies
// them into its folder first (Record) and Forget removes the console log
// after; a sweep removes what no run will record.
func (b Backend) removeLogs(domain string) {
	for _, p := range []string{ConsoleLogPath(b.URI, domain), QEMULogPath(b.URI, domain)} {
		if p != "" {
			os.Remove(p)
		}
	}
}

// Answers, Holds and Only implement machine.HostLoss as for a fleet of
// this one host: a resume of a run on several hosts, with the stack now on
// one, still removes what the run left on the hosts it lost.
func (b Backend) Answers(ctx context.Context, host string) error { return Fleet{b}.Answers(ctx, host) }

// Holds implements machine.HostLoss.
func (b Backend) Holds(host string, r apitype.ResourceV3) bool { return Fleet{b}.Holds(host, r) }

// Only implements machine.HostLoss.
func (b Backend) Only(hosts []string) machine.Backend { return Fleet{b}.Only(hosts) }

// Record implements machine.Recorder: NODE.console.log (the serial console
// virtlogd kept), NODE.domain.xml (the live definition, every default
// filled) and NODE.qemu.log (libvirt's log of the QEMU process, which holds
// its command line); each only where the host has it.
func (b Backend) Record(ctx context.Context, s machine.Spec, dir string) string {
	console := copyFile(ConsoleLogPath(b.URI, s.Name), filepath.Join(dir, s.Node+".console.log"))
	if x, err := b.virsh().DomainXML(ctx, s.Name); err == nil {
		_ = os.WriteFile(filepath.Join(dir, s.Node+".domain.xml"), []byte(x), record.FileMode)
	}
	copyFile(QEMULogPath(b.URI, s.Name), filepath.Join(dir, s.Node+".qemu.log"))
	return console
}

// Forget implements machine.Recorder: the console logs of destroyed
// domains, which virtlogd leaves behind.
func (b Backend) Forget(specs []machine.Spec) {
	for _, s := range specs {
		if p := ConsoleLogPath(b.URI, s.Name); p != "" {
			os.Remove(p)
		}
	}
}

func (b Backend) virsh() Virsh { return Virsh{URI: b.URI} }

// copyFile copies src to dst and returns dst, or "" when src is "" or
// cannot be read.
func copyFile(src, dst string) string {
	if src == "" {
		return ""
	}
	data, err := os.ReadFile(src)
	if err != nil || os.WriteFile(dst, data, record.FileMode) != nil {
		return ""
	}
	return dst
}
