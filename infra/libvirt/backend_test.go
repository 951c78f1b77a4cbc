package libvirt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
)

func TestSettingsDefaultsAndValues(t *testing.T) {
	b, err := New("footprint-ci", "")
	if err != nil {
		t.Fatal(err)
	}
	if b.URI != "qemu:///system" || b.DomainType != "kvm" || b.PoolPath != "/var/lib/libvirt/images/footprint-ci" {
		t.Errorf("defaults: %+v", b.Settings)
	}
	b, err = New("footprint-ci", `{"uri":"qemu+ssh://lab/system","domainType":"qemu","poolPath":"/srv/pools/fp/"}`)
	if err != nil {
		t.Fatal(err)
	}
	if b.URI != "qemu+ssh://lab/system" || b.DomainType != "qemu" || b.PoolPath != "/srv/pools/fp" {
		t.Errorf("values: %+v", b.Settings)
	}
	if d := b.Describe(); d["uri"] != b.URI || d["domainType"] != "qemu" || b.Name() != "libvirt" {
		t.Errorf("describe %v, name %s", d, b.Name())
	}
}

func TestBadSettingsFailWithOneLineNamingTheKey(t *testing.T) {
	cases := []struct{ section, key, hint string }{
		{`{"uri":"xen:///system"}`, "footprint:libvirt.uri", "qemu"},
		{`{"uri":"qemu:///"}`, "footprint:libvirt.uri", "/system"},
		{`{"uri":""}`, "footprint:libvirt.uri", "not a libvirt URI"},
		{`{"domainType":"hvf"}`, "footprint:libvirt.domainType", "kvm"},
		{`{"poolPath":"pools/fp"}`, "footprint:libvirt.poolPath", "absolute"},
		{`{"poolPath":"/"}`, "footprint:libvirt.poolPath", "system folder"},
		{`{"domaintype":"qemu"}`, "footprint:libvirt.domaintype", "known: domainType, guestOverheadMiB, hosts, maxGuests, memoryShare, poolPath, tbCacheMiB, uri, vcpusPerCore"},
		{`{"domainType":"qemu","tbCacheMiB":"1G"}`, "footprint:libvirt.tbCacheMiB", "size in MiB"},
		{`{"domainType":"qemu","tbCacheMiB":3072}`, "footprint:libvirt.tbCacheMiB", "2048"},
		{`{"tbCacheMiB":2048}`, "footprint:libvirt.tbCacheMiB", "software emulation only"},
		{`{"domainType":true}`, "footprint:libvirt.domainType", "want a string"},
		{`{"maxGuests":-1}`, "footprint:libvirt.maxGuests", "not a whole number"},
		{`{"memoryShare":1.5}`, "footprint:libvirt.memoryShare", "not a share"},
		{`{"vcpusPerCore":"0"}`, "footprint:libvirt.vcpusPerCore", "not a number of vCPUs"},
		{`{"uri":"qemu+ssh://lab/system?no_verify=1"}`, "footprint:libvirt.uri", "no_verify=1 is not supported"},
		{`["qemu:///system"]`, "footprint:libvirt", "map of keys"},
	}
	for _, c := range cases {
		_, err := New("footprint-ci", c.section)
		if err == nil {
			t.Errorf("%s: accepted", c.section)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, c.key+": ") || !strings.Contains(msg, c.hint) || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q, want one line starting %q and mentioning %q", c.section, msg, c.key, c.hint)
		}
	}
}

// The backend fulfils the whole contract, including the optional recorder.
var (
	_ machine.Backend  = Backend{}
	_ machine.Recorder = Backend{}
	_ machine.HostLoss = Backend{}
)

func TestRecordKeepsWhatTheHostHas(t *testing.T) {
	// A session URI points the log folder below the user's cache folder.
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	b, err := New("footprint-t", `{"uri":"qemu:///session"}`)
	if err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(cache, "libvirt", "qemu", "log")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := machine.Spec{Node: "bare", Name: "footprint-t-bare"}
	for file, text := range map[string]string{"footprint-t-bare-console.log": "boot\nfootprint-agent: done\n", "footprint-t-bare.log": "qemu-system-x86_64 -name guest=footprint-t-bare\n"} {
		if err := os.WriteFile(filepath.Join(logs, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	// No libvirtd answers here: the domain XML is left out, the files kept.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	console := b.Record(ctx, spec, dir)
	if console != filepath.Join(dir, "bare.console.log") {
		t.Fatalf("console saved as %q", console)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "bare.qemu.log")); err != nil || !strings.Contains(string(data), "-name guest=footprint-t-bare") {
		t.Errorf("qemu log: %q %v", data, err)
	}
	for _, f := range []string{"bare.console.log", "bare.qemu.log"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != record.FileMode {
			t.Errorf("%s in the run folder: mode %v (%v), want %v", f, st.Mode().Perm(), err, record.FileMode)
		}
	}
	b.Forget([]machine.Spec{spec})
	if _, err := os.Stat(filepath.Join(logs, "footprint-t-bare-console.log")); !os.IsNotExist(err) {
		t.Errorf("console log not forgotten: %v", err)
	}
}

func TestNodeInfoAndLimits(t *testing.T) {
	out := "CPU model:           x86_64\nCPU(s):              2\nCPU frequency:       2300 MHz\nMemory size:         24683172 KiB\n"
	mem, cpus, err := parseNodeInfo(out)
	if err != nil || mem != 24104 || cpus != 2 {
		t.Fatalf("nodeinfo: %d MiB, %d CPUs, %v", mem, cpus, err)
	}
	if _, _, err := parseNodeInfo("error: nothing"); err == nil {
		t.Error("nodeinfo without figures accepted")
	}
	b, err := New("p", `{"domainType":"qemu","maxGuests":1,"memoryShare":"0.5"}`)
	if err != nil {
		t.Fatal(err)
	}
	if b.MaxGuests != 1 || b.MemoryShare != 0.5 || b.VCPUsPerCore != 4 || b.overheadMiB() != 512 {
		t.Errorf("limits %+v, overhead %d", b.Limits, b.overheadMiB())
	}
	// A translation cache above QEMU's 1 GiB is QEMU's overhead too; a host of
	// a fleet that uses KVM may not have one.
	if q, _ := New("p", `{"domainType":"qemu","tbCacheMiB":2048}`); q.overheadMiB() != 1536 || q.Describe()["tbCacheMiB"] != "2048" {
		t.Errorf("a 2 GiB translation cache: overhead %d, described %v", q.overheadMiB(), q.Describe())
	}
	_, err = Open("p", `{"domainType":"qemu","tbCacheMiB":2048,"hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ssh://lab2/system","domainType":"kvm"}]}`)
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:libvirt.hosts[1].tbCacheMiB: ") {
		t.Errorf("a KVM host with a translation cache: %v", err)
	}
	if k, _ := New("p", `{"guestOverheadMiB":"0"}`); k.overheadMiB() != 0 {
		t.Errorf("an explicit overhead of 0 became %d", k.overheadMiB())
	}
}

// Several hosts: each inherits the section's keys and may set its own,
// every error names the host's key.
func TestOpenSeveralHosts(t *testing.T) {
	b, err := Open("p", `{"domainType":"qemu","maxGuests":2,"hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ssh://lab2/system","maxGuests":"1","poolPath":"/srv/fp"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := b.(Fleet)
	if !ok || len(f) != 2 {
		t.Fatalf("%T %+v, want a fleet of two", b, b)
	}
	if f[0].URI != "qemu:///system" || f[0].MaxGuests != 2 || f[0].DomainType != "qemu" || f[0].suffix != "" ||
		f[1].URI != "qemu+ssh://lab2/system" || f[1].MaxGuests != 1 || f[1].PoolPath != "/srv/fp" || f[1].DomainType != "qemu" || f[1].suffix != "-h1" {
		t.Errorf("hosts %+v", f)
	}
	if single, err := Open("p", `{"uri":"qemu:///system"}`); err != nil {
		t.Error(err)
	} else if _, ok := single.(Backend); !ok {
		t.Errorf("one host opened as %T", single)
	}
	for section, want := range map[string]string{
		`{"hosts":[{"uri":"qemu:///system"},{"maxGuests":"1"}]}`:        "footprint:libvirt.hosts[1].uri: not set",
		`{"hosts":[{"uri":"qemu:///system"},{"uri":"xen:///system"}]}`:  "footprint:libvirt.hosts[1].uri: \"xen:///system\": transport",
		`{"hosts":[{"uri":"qemu:///system"},{"uri":"qemu:///system"}]}`: "footprint:libvirt.hosts[1].uri: qemu:///system is listed twice",
		`{"hosts":[{"uri":"qemu:///system","memoryShare":"2"}]}`:        "footprint:libvirt.hosts[0].memoryShare",
		`{"hosts":[]}`:                 "footprint:libvirt.hosts: want a list",
		`{"hosts":["qemu:///system"]}`: "footprint:libvirt.hosts[0]: want a map",
		`{"hosts":[{"uri":"qemu:///system","hosts":[{"uri":"qemu:///x"}]}]}`: "footprint:libvirt.hosts[0].hosts: want a string",
	} {
		if _, err := Open("p", section); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", section, err, want)
		}
	}
}

// A lost host's resources are found by its provider, whose uri input is
// the host; the fleet without it keeps the others in order.
func TestFleetWithoutALostHost(t *testing.T) {
	b, err := Open("p", `{"hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ssh://lab2/system"},{"uri":"qemu+ssh://lab3/system"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	f := b.(Fleet)
	provider := apitype.ResourceV3{Type: providerType, Inputs: map[string]any{"uri": "qemu+ssh://lab2/system", "version": "0.5.4"}}
	domain := apitype.ResourceV3{Type: "libvirt:index/domain:Domain", Inputs: map[string]any{"uri": "qemu+ssh://lab2/system"}}
	if !f.Holds("qemu+ssh://lab2/system", provider) || f.Holds("qemu:///system", provider) || f.Holds("qemu+ssh://lab2/system", domain) {
		t.Error("Holds does not pick exactly the host's provider")
	}
	rest, ok := f.Only([]string{"qemu+ssh://lab3/system", "qemu:///system"}).(Fleet)
	if !ok || len(rest) != 2 || rest[0].URI != "qemu:///system" || rest[1].URI != "qemu+ssh://lab3/system" || rest[1].suffix != "-h2" {
		t.Errorf("only two hosts: %+v", rest)
	}
	if err := f.Answers(context.Background(), "qemu+tcp://127.0.0.1:1/system"); err == nil {
		t.Error("a host with nothing listening answers")
	}
}
