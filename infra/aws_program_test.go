package infra

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"golang.org/x/crypto/ssh"

	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/results"
)

func newKeyPEM(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

// awsStack is a stack of two sizes on the aws backend, with the run's keys.
func awsStack(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	cfg := map[string]string{
		"footprint:backend":        "aws",
		"footprint:aws":            `{"region":"eu-west-1","sshFrom":"203.0.113.7"}`,
		"footprint:libvirt":        "",
		"footprint:image":          "", // the default URL, never fetched: a cloud boots its own
		"footprint:profiles":       "bare",
		"footprint:memorySizesMiB": "[1024, 2048]",
		"footprint:sshPrivateKey":  newKeyPEM(t),
		"footprint:sshHostKey":     newKeyPEM(t),
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// runWith runs the program under mocks and keeps every result it records.
func runWith(t *testing.T, stack string, conf map[string]string) (*mocks, *collected, []results.Result, error) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range conf {
		if v == "" {
			delete(conf, k)
		}
	}
	m, c := &mocks{}, &collected{}
	var mu sync.Mutex
	var got []results.Result
	program := New(Options{Collect: c.fn, ProjectDir: dir, ImageCache: filepath.Join(dir, "cache"), OnResult: func(r results.Result) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}})
	err := pulumi.RunErr(program, pulumi.WithMocks("footprint", stack, m), func(info *pulumi.RunInfo) { info.Config = conf })
	sort.Slice(got, func(i, j int) bool { return got[i].Node < got[j].Node })
	return m, c, got, err
}

func tags(r registered) map[string]string {
	out := map[string]string{}
	if v, ok := r.inputs["tags"]; ok && v.IsObject() {
		for k, t := range v.ObjectValue() {
			out[string(k)] = t.StringValue()
		}
	}
	return out
}

func TestAWSProgramResourceGraph(t *testing.T) {
	m, c, recs, err := runWith(t, "cloud", awsStack(t, nil))
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	counts := map[string]int{}
	for _, r := range m.got {
		counts[r.typ]++
	}
	want := map[string]int{
		"pulumi:providers:aws": 1, "aws:ec2/vpc:Vpc": 1, "aws:ec2/subnet:Subnet": 1, "aws:ec2/internetGateway:InternetGateway": 1,
		"aws:ec2/routeTable:RouteTable": 1, "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
		"aws:ec2/securityGroup:SecurityGroup": 1, "aws:ec2/instance:Instance": 2,
	}
	for typ, n := range want {
		if counts[typ] != n {
			t.Errorf("%s: %d registered, want %d", typ, counts[typ], n)
		}
	}
	for typ := range counts {
		if _, ok := want[typ]; !ok && typ != "pulumi:pulumi:Stack" {
			t.Errorf("unexpected resource type %s", typ)
		}
	}
	if r := m.ofType("pulumi:providers:aws"); len(r) == 1 && str(r[0], "region") != "eu-west-1" {
		t.Errorf("provider region %q", str(r[0], "region"))
	}

	// Tagged with the prefix, so that cleanup finds them without state.
	for _, r := range m.got {
		if strings.HasPrefix(r.typ, "aws:ec2/") && r.typ != "aws:ec2/routeTableAssociation:RouteTableAssociation" {
			if got := tags(r)["footprint:prefix"]; got != "footprint-cloud" {
				t.Errorf("%s %s: tag footprint:prefix %q, want footprint-cloud", r.typ, r.name, got)
			}
		}
	}

	// In: SSH from the one address, nothing else.
	sg := m.ofType("aws:ec2/securityGroup:SecurityGroup")[0]
	ingress := sg.inputs["ingress"].ArrayValue()
	if len(ingress) != 1 {
		t.Fatalf("%d ingress rules, want SSH only", len(ingress))
	}
	rule := ingress[0].ObjectValue()
	cidrs := rule["cidrBlocks"].ArrayValue()
	if rule["protocol"].StringValue() != "tcp" || rule["fromPort"].NumberValue() != 22 || rule["toPort"].NumberValue() != 22 ||
		len(cidrs) != 1 || cidrs[0].StringValue() != "203.0.113.7/32" {
		t.Errorf("ingress %v, want tcp 22 from 203.0.113.7/32 only", rule)
	}
	for _, k := range []resource.PropertyKey{"ipv6CidrBlocks", "securityGroups", "prefixListIds"} {
		if v, ok := rule[k]; ok && v.IsArray() && len(v.ArrayValue()) > 0 {
			t.Errorf("ingress also opens %s: %v", k, v)
		}
	}

	// Each instance: the node's type, address, the AMI looked up, IMDSv2.
	types := map[string]string{}
	for _, vm := range m.ofType("aws:ec2/instance:Instance") {
		types[vm.name] = str(vm, "instanceType")
		if str(vm, "ami") != "ami-0footprint" || !strings.HasPrefix(str(vm, "privateIp"), "10.") {
			t.Errorf("%s: ami %q private address %q", vm.name, str(vm, "ami"), str(vm, "privateIp"))
		}
		if md := vm.inputs["metadataOptions"].ObjectValue(); md["httpTokens"].StringValue() != "required" {
			t.Errorf("%s: IMDS tokens %v, want required", vm.name, md["httpTokens"])
		}
	}
	if types["footprint-cloud-bare-1024m"] != "t2.micro" || types["footprint-cloud-bare-2048m"] != "t2.small" {
		t.Errorf("instance types %v, want t2.micro for 1 GiB and t2.small for 2 GiB", types)
	}
	var amiCall *pulumi.MockCallArgs
	for i := range m.calls {
		if m.calls[i].Token == "aws:ec2/getAmi:getAmi" {
			amiCall = &m.calls[i]
		}
	}
	if amiCall == nil || amiCall.Args["owners"].ArrayValue()[0].StringValue() != "099720109477" ||
		!strings.Contains(fmt.Sprint(amiCall.Args.Mappable()), "ubuntu-noble-24.04-amd64-minimal-*") {
		t.Errorf("AMI lookup %+v, want Canonical's Ubuntu 24.04 Minimal", amiCall)
	}

	// Collected over SSH at the public address, the agent as the guest sees it.
	if len(c.targets) != 2 {
		t.Fatalf("%d collections, want 2", len(c.targets))
	}
	for _, tg := range c.targets {
		if tg.SSH == nil || !strings.HasPrefix(tg.SSH.Addr, "198.51.100.") || tg.SSH.User != "footprint" || !strings.HasPrefix(tg.URL, "http://10.") {
			t.Errorf("target %+v, want SSH to the public address and the agent at its private one", tg)
		}
	}
	// The record says where it ran.
	if len(recs) != 2 {
		t.Fatalf("%d results, want 2", len(recs))
	}
	for _, r := range recs {
		mm := r.Machine
		if mm.Backend != "aws" || mm.Region != "eu-west-1" || mm.ImageID != "ami-0footprint" || mm.DomainType != "xen" ||
			mm.Hypervisor != "aws/xen" || mm.VCPUs != 1 || !strings.Contains(mm.Image, "ubuntu-noble") {
			t.Errorf("%s: machine record %+v", r.Node, mm)
		}
	}
	if recs[0].Machine.InstanceType != "t2.micro" || recs[1].Machine.MemoryMiB != 2048 {
		t.Errorf("records %+v %+v", recs[0].Machine, recs[1].Machine)
	}
}

// The same stack on libvirt and on AWS gives every node the same user-data:
// as text on libvirt's disk, compressed to EC2.
func TestAWSAndLibvirtGiveTheSameUserData(t *testing.T) {
	cfg := awsStack(t, map[string]string{"footprint:profiles": `["bare","k3s"]`, "footprint:mysqlPassword": "pw-for-the-mocks-0123456789"})
	cloud, _, _, err := runWith(t, "same", cfg)
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]string{"footprint:backend": "libvirt", "footprint:aws": "", "footprint:libvirt": `{"domainType":"qemu"}`, "footprint:image": "test.qcow2"}
	for k, v := range cfg {
		if _, set := local[k]; !set {
			local[k] = v
		}
	}
	lm, _ := runProgram(t, "same", local)
	byName := map[string]string{}
	for _, ci := range lm.ofType("libvirt:index/cloudInitDisk:CloudInitDisk") {
		byName[strings.TrimSuffix(str(ci, "name"), "-cloudinit.iso")] = str(ci, "userData")
	}
	vms := cloud.ofType("aws:ec2/instance:Instance")
	if len(vms) != 4 || len(byName) != 4 {
		t.Fatalf("%d instances and %d cloud-init disks, want 4 each (%v)", len(vms), len(byName), byName)
	}
	for _, vm := range vms {
		ud, _ := userDataOf(t, vm)
		if !vm.inputs["userDataBase64"].IsSecret() {
			t.Errorf("%s: user-data is not a secret, but it carries the password and the host key", vm.name)
		}
		if replace := vm.inputs["userDataReplaceOnChange"]; !replace.IsBool() || !replace.BoolValue() {
			t.Errorf("%s: a change of user-data does not replace the instance", vm.name)
		}
		if want, ok := byName[vm.name]; !ok || ud != want {
			t.Errorf("%s: user-data differs from libvirt's (%d bytes against %d)", vm.name, len(ud), len(want))
		}
		// libvirt's cloud-init disk holds the text itself, uncompressed.
		if !strings.HasPrefix(byName[vm.name], "#cloud-config\n") {
			t.Errorf("%s: libvirt's user-data is not the text of a #cloud-config", vm.name)
		}
		if !strings.Contains(ud, "ssh_keys:") || !strings.Contains(ud, "name: footprint") {
			t.Errorf("%s: user-data lacks the host key or the collector's user", vm.name)
		}
	}
}

// userDataOf is the user-data an instance boots with, as cloud-init reads
// it from EC2, and its size as sent to EC2 (before base64).
func userDataOf(t *testing.T, vm registered) (text string, sent int) {
	t.Helper()
	if _, set := vm.inputs["userData"]; set {
		t.Errorf("%s: user-data sent as text, which EC2 takes only up to 16 KB", vm.name)
	}
	raw, err := base64.StdEncoding.DecodeString(str(vm, "userDataBase64"))
	if err != nil {
		t.Fatalf("%s: userDataBase64: %v", vm.name, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: user-data is not gzip, which cloud-init detects: %v", vm.name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: user-data: %v", vm.name, err)
	}
	return string(b), len(raw)
}

// Every profile's user-data, rendered and sent as the backend does, with
// secrets of the run's sizes, fits EC2's 16 KB with room to spare for what
// another stack writes longer than this one (its name, versions, workload
// image): the mock of EC2 refuses more, but a profile that grows near the
// limit shows here first, with every profile's size in the log.
func TestAWSUserDataOfEveryProfileFitsEC2(t *testing.T) {
	const margin = 256
	cfg := awsStack(t, map[string]string{"footprint:profiles": "", "footprint:memorySizesMiB": "", "footprint:mysqlPassword": "pw-for-the-mocks-0123456789"})
	m, _, _, err := runWith(t, "userdata", cfg)
	if err != nil {
		t.Fatal(err)
	}
	vms := m.ofType("aws:ec2/instance:Instance")
	if len(vms) != len(profiles.Names()) {
		t.Fatalf("%d instances, want one per profile (%d)", len(vms), len(profiles.Names()))
	}
	for _, vm := range vms {
		text, sent := userDataOf(t, vm)
		t.Logf("%s: user-data %d bytes, %d gzip-compressed (EC2 takes %d)", vm.name, len(text), sent, ec2MaxUserData)
		if sent > ec2MaxUserData-margin {
			t.Errorf("%s: user-data is %d bytes compressed, within %d of EC2's %d", vm.name, sent, margin, ec2MaxUserData)
		}
	}
}

// hugeVersion is a version no compression brings under EC2's limit.
func hugeVersion(t *testing.T) string {
	t.Helper()
	b := make([]byte, 30000)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "v" + hex.EncodeToString(b)
}

// Refusals before any resource exists, each naming its key.
func TestAWSProgramRefusesBeforeAnyResource(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		extra      map[string]string
	}{
		{"http collector", "footprint:collect: backend aws opens only SSH", map[string]string{"footprint:collect": "http"}},
		{"no host key", "footprint:sshHostKey: not set", map[string]string{"footprint:sshHostKey": ""}},
		{"a size without a type", "footprint:aws.instanceType: not set, and no t2 type has 1 vCPU / 1536 MiB", map[string]string{"footprint:memorySizesMiB": "[1536]"}},
		{"SSH from a whole network", "footprint:aws.sshFrom: 203.0.113.0/24 opens SSH to 256 addresses", map[string]string{"footprint:aws": `{"region":"eu-west-1","sshFrom":"203.0.113.0/24"}`}},
		{"no region", "footprint:aws.region: not set", map[string]string{"footprint:aws": `{"sshFrom":"203.0.113.7"}`}},
		{"user-data over EC2's limit", "footprint:aws: node bare-1024m: its user-data is ", map[string]string{"footprint:versions": fmt.Sprintf(`{"bare":%q}`, hugeVersion(t))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "")
			t.Setenv("AWS_DEFAULT_REGION", "")
			m, _, _, err := runWith(t, "bad", awsStack(t, tc.extra))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %.300v, want %q", err, tc.want)
			}
			for _, r := range m.got {
				if r.typ != "pulumi:pulumi:Stack" {
					t.Errorf("%s %s registered before the refusal", r.typ, r.name)
				}
			}
		})
	}
}
