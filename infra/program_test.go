package infra

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/collect"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/results"
)

type registered struct {
	typ, name, parent, provider string
	inputs                      resource.PropertyMap
}

type mocks struct {
	mu    sync.Mutex
	got   []registered
	calls []pulumi.MockCallArgs
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent := ""
	if args.RegisterRPC != nil {
		parent = args.RegisterRPC.GetParent()
	}
	if err := ec2Refusal(args.TypeToken, args.Inputs); err != nil {
		return "", nil, fmt.Errorf("creating %s %s: %w", args.TypeToken, args.Name, err)
	}
	m.got = append(m.got, registered{typ: args.TypeToken, name: args.Name, parent: parent, provider: args.Provider, inputs: args.Inputs})
	outputs := args.Inputs.Copy()
	if args.TypeToken == "aws:ec2/instance:Instance" {
		outputs["publicIp"] = resource.NewStringProperty(fmt.Sprintf("198.51.100.%d", len(m.got)))
	}
	return args.Name + "-id", outputs, nil
}

// The AWS data sources the program asks for, as the provider answers them.
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, args)
	m.mu.Unlock()
	switch args.Token {
	case "aws:ec2/getAmi:getAmi":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "ami-0footprint", "imageId": "ami-0footprint",
			"name": "ubuntu-minimal/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-minimal-20261101",
		}), nil
	case "aws:ec2/getInstanceType:getInstanceType":
		typ := args.Args["instanceType"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"instanceType": typ, "hypervisor": "xen", "defaultVcpus": 1, "memorySize": map[string]int{"t2.micro": 1024, "t2.small": 2048}[typ],
		}), nil
	}
	return resource.PropertyMap{}, nil
}

func (m *mocks) ofType(typ string) []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []registered
	for _, r := range m.got {
		if r.typ == typ {
			out = append(out, r)
		}
	}
	return out
}

type collected struct {
	mu      sync.Mutex
	targets []collect.Target
	opts    []collect.Options
}

func (c *collected) fn(_ context.Context, t collect.Target, o collect.Options) (results.Result, error) {
	c.mu.Lock()
	c.targets = append(c.targets, t)
	c.opts = append(c.opts, o)
	c.mu.Unlock()
	return results.Result{SchemaVersion: 1, Node: t.Node, Status: results.StatusOK}, nil
}

// runProgram runs the program under mocks for one stack.
func runProgram(t *testing.T, stack string, cfg map[string]string) (*mocks, *collected) {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "test.qcow2")
	if err := os.WriteFile(img, bootSector(), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := map[string]string{"footprint:image": "test.qcow2", "footprint:libvirt": `{"domainType":"qemu"}`, "footprint:profiles": "bare"}
	for k, v := range cfg {
		if v == "" {
			delete(conf, k) // the key's default
			continue
		}
		conf[k] = v
	}
	m, c := &mocks{}, &collected{}
	program := New(Options{Collect: c.fn, ProjectDir: dir, ImageCache: filepath.Join(dir, "cache")})
	err := pulumi.RunErr(program, pulumi.WithMocks("footprint", stack, m), func(info *pulumi.RunInfo) {
		info.Config = conf
	})
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	return m, c
}

// runPrepared runs the program as footprint run does: handed the stack it
// prepared from values, and a wave of it: the nodes placed, each on its
// host ("" for the backend's first).
func runPrepared(t *testing.T, stack string, values map[string]string, placed map[string]string) (*mocks, *collected) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.qcow2"), bootSector(), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := map[string]string{"image": "test.qcow2", "libvirt": `{"domainType":"qemu"}`, "profiles": "bare"}
	maps.Copy(conf, values)
	exp, err := config.Parse(conf, Source("footprint", stack, dir))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(exp, "footprint-"+stack, nil)
	if err != nil {
		t.Fatal(err)
	}
	wave, err := p.Select(slices.Collect(maps.Keys(placed)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range wave {
		wave[i].Host = placed[wave[i].Node]
	}
	secrets, err := config.NewSecrets("test")
	if err != nil {
		t.Fatal(err)
	}
	m, c := &mocks{}, &collected{}
	program := New(Options{Stack: p, Nodes: wave, Secrets: secrets, Collect: c.fn, ImageCache: filepath.Join(dir, "cache")})
	if err := pulumi.RunErr(program, pulumi.WithMocks("footprint", stack, m)); err != nil {
		t.Fatalf("program: %v", err)
	}
	return m, c
}

// bootSector passes as a raw disk image.
func bootSector() []byte {
	b := make([]byte, 512)
	b[510], b[511] = 0x55, 0xaa
	return b
}

func str(r registered, key string) string {
	v, ok := r.inputs[resource.PropertyKey(key)]
	if ok && v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

func num(r registered, key string) float64 {
	v, ok := r.inputs[resource.PropertyKey(key)]
	if !ok || !v.IsNumber() {
		return -1
	}
	return v.NumberValue()
}

func TestProgramResourceGraph(t *testing.T) {
	m, c := runProgram(t, "ci", nil)

	counts := map[string]int{}
	for _, r := range m.got {
		counts[r.typ]++
	}
	want := map[string]int{
		"pulumi:providers:libvirt":                  1,
		"footprint:libvirt:Cluster":                 1,
		"footprint:libvirt:Node":                    1,
		"libvirt:index/pool:Pool":                   1,
		"libvirt:index/network:Network":             1,
		"libvirt:index/volume:Volume":               2, // shared base + the node's copy-on-write layer
		"libvirt:index/cloudInitDisk:CloudInitDisk": 1,
		"libvirt:index/domain:Domain":               1,
	}
	for typ, n := range want {
		if counts[typ] != n {
			t.Errorf("%s: %d registered, want %d (all: %v)", typ, counts[typ], n, counts)
		}
	}

	domain := m.ofType("libvirt:index/domain:Domain")[0]
	if got := str(domain, "name"); got != "footprint-ci-bare" {
		t.Errorf("domain name %q", got)
	}
	for _, v := range m.ofType("libvirt:index/volume:Volume") {
		if strings.HasSuffix(str(v, "name"), "-bare.qcow2") && num(v, "size") != 10<<30 {
			t.Errorf("node volume size %v, want the default 10 GiB", num(v, "size"))
		}
	}
	if num(domain, "memory") != 1024 || num(domain, "vcpu") != 1 || str(domain, "type") != "qemu" {
		t.Errorf("domain size/type: memory %v vcpu %v type %q", num(domain, "memory"), num(domain, "vcpu"), str(domain, "type"))
	}
	if !strings.Contains(domain.parent, "footprint:libvirt:Node") {
		t.Errorf("domain parent %q, want the node component", domain.parent)
	}
	for _, typ := range []string{"libvirt:index/pool:Pool", "libvirt:index/network:Network"} {
		if p := m.ofType(typ)[0].parent; !strings.Contains(p, "footprint:libvirt:Cluster") {
			t.Errorf("%s parent %q, want the cluster component", typ, p)
		}
	}
	if p := m.ofType("footprint:libvirt:Node")[0].parent; !strings.Contains(p, "footprint:libvirt:Cluster") {
		t.Errorf("node component parent %q, want the cluster", p)
	}

	nic := domain.inputs["networkInterfaces"].ArrayValue()[0].ObjectValue()
	addr := nic["addresses"].ArrayValue()[0].StringValue()
	if nic["waitForLease"].BoolValue() {
		t.Error("domain waits for a lease; upstream wait_for_lease is broken")
	}
	if len(c.targets) != 1 || c.targets[0].URL != "http://"+addr+":9779/result.json" || c.targets[0].Node != "bare" {
		t.Errorf("collected %+v, want the node's fixed address %s", c.targets, addr)
	}
	if c.targets[0].ConsoleLog != "/var/log/libvirt/qemu/footprint-ci-bare-console.log" {
		t.Errorf("console log %q", c.targets[0].ConsoleLog)
	}
	if xslt := domain.inputs["xml"].ObjectValue()["xslt"].StringValue(); !strings.Contains(xslt, c.targets[0].ConsoleLog) {
		t.Errorf("domain XSLT does not send the console to %s", c.targets[0].ConsoleLog)
	}

	ci := m.ofType("libvirt:index/cloudInitDisk:CloudInitDisk")[0]
	if !ci.inputs["userData"].IsSecret() {
		t.Error("user-data is not a secret, but it carries the workload's password")
	}
	if ud := str(ci, "userData"); !strings.HasPrefix(ud, "#cloud-config\n") || !strings.Contains(ud, "ADDRESS='"+addr+"'") {
		t.Errorf("user-data does not carry the node address %s", addr)
	}
	if !strings.Contains(str(ci, "networkConfig"), strings.ToLower(str(ci, "networkConfig"))) {
		t.Error("network config missing")
	}
}

func TestProgramNamesAndSubnetsDifferPerStack(t *testing.T) {
	a, _ := runProgram(t, "alpha", nil)
	b, _ := runProgram(t, "beta", nil)
	for _, typ := range []string{"libvirt:index/pool:Pool", "libvirt:index/network:Network", "libvirt:index/domain:Domain", "libvirt:index/volume:Volume", "libvirt:index/cloudInitDisk:CloudInitDisk"} {
		names := map[string]string{}
		for _, stack := range []struct {
			name string
			m    *mocks
		}{{"alpha", a}, {"beta", b}} {
			for _, r := range stack.m.ofType(typ) {
				n := str(r, "name")
				if !strings.HasPrefix(n, "footprint-"+stack.name) {
					t.Errorf("%s name %q does not start with the stack prefix", typ, n)
				}
				if other, dup := names[n]; dup {
					t.Errorf("%s name %q used by both %s and %s", typ, n, other, stack.name)
				}
				names[n] = stack.name
			}
		}
	}
	na, nb := a.ofType("libvirt:index/network:Network")[0], b.ofType("libvirt:index/network:Network")[0]
	if str(na, "bridge") == str(nb, "bridge") || len(str(na, "bridge")) > 15 {
		t.Errorf("bridges %q and %q must differ and fit 15 characters", str(na, "bridge"), str(nb, "bridge"))
	}
	ca, cb := na.inputs["addresses"].ArrayValue()[0].StringValue(), nb.inputs["addresses"].ArrayValue()[0].StringValue()
	if ca == cb {
		t.Errorf("both stacks got subnet %s", ca)
	}
}

func TestProgramSizesFromConfig(t *testing.T) {
	m, c := runProgram(t, "sized", map[string]string{
		"footprint:vcpus": "2", "footprint:memoryMiB": "2048", "footprint:networkCidr": "10.99.5.0/24",
		"footprint:collectDeadline": "7m",
	})
	d := m.ofType("libvirt:index/domain:Domain")[0]
	if num(d, "memory") != 2048 || num(d, "vcpu") != 2 {
		t.Errorf("memory %v vcpu %v", num(d, "memory"), num(d, "vcpu"))
	}
	if got := c.targets[0].URL; got != "http://10.99.5.10:9779/result.json" {
		t.Errorf("URL %s, want the first node address of 10.99.5.0/24", got)
	}
	if c.opts[0].Deadline.String() != "7m0s" {
		t.Errorf("deadline %s", c.opts[0].Deadline)
	}
}

func TestProgramEveryDefaultProfile(t *testing.T) {
	password := "pw-for-the-mocks-0123456789"
	m, c := runProgram(t, "seed", map[string]string{"footprint:profiles": "", "footprint:mysqlPassword": password})
	domains := m.ofType("libvirt:index/domain:Domain")
	// The seed's six, KubeSolo and kubeadm.
	if want := len(profiles.Names()); want != 8 || len(domains) != want || len(c.targets) != want {
		t.Fatalf("%d domains and %d collections, want one per default profile (%d, expected 8)", len(domains), len(c.targets), want)
	}
	addrs := map[string]bool{}
	for _, d := range domains {
		a := d.inputs["networkInterfaces"].ArrayValue()[0].ObjectValue()["addresses"].ArrayValue()[0].StringValue()
		if addrs[a] {
			t.Errorf("address %s given twice", a)
		}
		addrs[a] = true
	}
	for _, ci := range m.ofType("libvirt:index/cloudInitDisk:CloudInitDisk") {
		if !ci.inputs["userData"].IsSecret() || !strings.Contains(str(ci, "userData"), password) {
			t.Errorf("%s: the password must reach the guest, inside a secret", str(ci, "name"))
		}
	}
}

func TestProgramWantsAPasswordForMySQL(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "i.qcow2"), bootSector(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &mocks{}
	program := New(Options{Collect: (&collected{}).fn, ProjectDir: dir, ImageCache: dir})
	err := pulumi.RunErr(program, pulumi.WithMocks("footprint", "nopw", m), func(info *pulumi.RunInfo) {
		info.Config = map[string]string{"footprint:profiles": "docker", "footprint:image": "i.qcow2"}
	})
	if err == nil || !strings.Contains(err.Error(), "footprint:mysqlPassword: not set") {
		t.Fatalf("err = %v", err)
	}
	if len(m.ofType("libvirt:index/domain:Domain")) != 0 {
		t.Error("a domain was created without a password")
	}
}

func TestProgramRejectsBadConfigBeforeAnyResource(t *testing.T) {
	dir := t.TempDir()
	m := &mocks{}
	program := New(Options{Collect: (&collected{}).fn, ProjectDir: dir, ImageCache: dir})
	err := pulumi.RunErr(program, pulumi.WithMocks("footprint", "bad", m), func(info *pulumi.RunInfo) {
		info.Config = map[string]string{"footprint:memoryMiB": "0"}
	})
	if err == nil || !strings.Contains(err.Error(), "footprint:memoryMiB") {
		t.Fatalf("err = %v, want one naming footprint:memoryMiB", err)
	}
	for _, r := range m.got {
		if r.typ != "pulumi:pulumi:Stack" {
			t.Errorf("resource %s %s registered despite invalid configuration", r.typ, r.name)
		}
	}
}
