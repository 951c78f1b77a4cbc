package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// Two runs of the same stack on two hypervisors, k3s in two versions;
// microk8s only in A, k0s only in B.
func compareRuns() (record.Run, record.Run) {
	a := makeRun("20261201T093000Z-kvm",
		node{name: "k3s", profile: "k3s", size: 1024, idle: []float64{600}, work: []float64{900}, api: results.APIResponsive, version: "v1.31.4+k3s1"},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{216}, work: []float64{600}, api: results.APIResponsive, version: "docker 27.3.1"},
		node{name: "microk8s", profile: "microk8s", size: 1024, idle: []float64{700}, work: []float64{950}, api: results.APIDegraded, version: "v1.31.3"},
	)
	b := makeRun("20261202T093000Z-tcg",
		node{name: "k3s", profile: "k3s", size: 1024, idle: []float64{630}, work: []float64{960}, api: results.APIUnresponsive, version: "v1.32.0+k3s1", hypervisor: "libvirt/qemu"},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{210}, work: []float64{600}, api: results.APIResponsive, version: "docker 27.3.1", hypervisor: "libvirt/qemu"},
		node{name: "k0s", profile: "k0s", size: 1024, idle: []float64{650}, work: []float64{955}, api: results.APIUnresponsive, version: "v1.31.3+k0s.0", hypervisor: "libvirt/qemu"},
	)
	return a, b
}

func TestCompare(t *testing.T) {
	a, b := compareRuns()
	c := Compare(a, b)
	rows := map[string]CompareRow{}
	for _, r := range c.Rows {
		rows[r.Profile] = r
	}
	if len(c.Rows) != 4 {
		t.Fatalf("%d rows, want docker, k0s, k3s, microk8s", len(c.Rows))
	}
	for _, tc := range []struct {
		profile           string
		inA, inB          bool
		dIdle, dWork      *float64
		apiChanged        bool
		verdictA, verdict results.APIVerdict
	}{
		{"k3s", true, true, f(30), f(60), true, results.APIResponsive, results.APIUnresponsive},
		{"docker", true, true, f(-6), f(0), false, results.APIResponsive, results.APIResponsive},
		{"microk8s", true, false, nil, nil, false, results.APIDegraded, ""},
		{"k0s", false, true, nil, nil, false, "", results.APIUnresponsive},
	} {
		r, ok := rows[tc.profile]
		if !ok {
			t.Errorf("no row for %s", tc.profile)
			continue
		}
		if (r.A != nil) != tc.inA || (r.B != nil) != tc.inB {
			t.Errorf("%s: in A %v, in B %v", tc.profile, r.A != nil, r.B != nil)
		}
		if !sameF(r.DeltaIdleMiB, tc.dIdle) || !sameF(r.DeltaWorkloadMiB, tc.dWork) || r.APIChanged != tc.apiChanged {
			t.Errorf("%s: Δ idle %v, Δ MySQL %v, API changed %v", tc.profile, deref(r.DeltaIdleMiB), deref(r.DeltaWorkloadMiB), r.APIChanged)
		}
		if r.A != nil && r.A.APIVerdict != tc.verdictA || r.B != nil && r.B.APIVerdict != tc.verdict {
			t.Errorf("%s: verdicts %+v %+v", tc.profile, r.A, r.B)
		}
		if r.MemoryMiB != 1024 {
			t.Errorf("%s: size %d", tc.profile, r.MemoryMiB)
		}
	}
	if strings.Join(c.A.Hypervisors, ",") != "libvirt/kvm" || strings.Join(c.B.Hypervisors, ",") != "libvirt/qemu" {
		t.Errorf("hypervisors %v / %v", c.A.Hypervisors, c.B.Hypervisors)
	}

	md := c.Markdown()
	for _, want := range []string{
		"# footprint compare: A 20261201T093000Z-kvm, B 20261202T093000Z-tcg",
		"| Hypervisor | libvirt/kvm | libvirt/qemu |",
		"| Workload | mysql:8.4 | mysql:8.4 |\n\n| System",
		"| System | VM (MiB) | Version A | Version B | Used idle A | Used idle B | Δ idle | Used with MySQL A | Used with MySQL B | Δ with MySQL | API A | API B |",
		"| k3s | 1024 | v1.31.4+k3s1 | v1.32.0+k3s1 | 600 | 630 | +30 (+5%) | 900 | 960 | +60 (+7%) | responsive | unresponsive (changed) |",
		"| docker | 1024 | docker 27.3.1 | docker 27.3.1 | 216 | 210 | −6 (−3%) | 600 | 600 | ±0 (±0%) | responsive | responsive |",
		"| microk8s | 1024 | v1.31.3 | not run | 700 | not run | – | 950 | not run | – | degraded | not run |",
		"| k0s | 1024 | not run | v1.31.3+k0s.0 | not run | 650 | – | not run | 955 | – | not run | unresponsive |",
		"Only in A: microk8s at 1024 MiB.",
		"Only in B: k0s at 1024 MiB.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("comparison lacks %q\n%s", want, md)
		}
	}

	data, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("JSON does not parse back: %v\n%s", err, data)
	}
	if len(back.Rows) != 4 || back.A.ID != a.ID || back.B.ID != b.ID {
		t.Errorf("JSON round trip: %+v", back)
	}
	var generic struct {
		Rows []map[string]any `json:"rows"`
	}
	_ = json.Unmarshal(data, &generic)
	for _, r := range generic.Rows {
		if r["profile"] == "microk8s" && r["b"] != nil {
			t.Errorf("a system only in A has a B side in JSON: %v", r["b"])
		}
		if r["profile"] == "k3s" && r["deltaIdleMiB"] != 30.0 {
			t.Errorf("k3s deltaIdleMiB %v", r["deltaIdleMiB"])
		}
	}
}

// Comparing across sizes and repeats matches by profile and size, and
// compares medians.
func TestCompareRepeatsAndSweeps(t *testing.T) {
	c := Compare(repeatsRun(), sweepRun())
	var k3s1024 *CompareRow
	for i, r := range c.Rows {
		if r.Profile == "k3s" && r.MemoryMiB == 1024 {
			k3s1024 = &c.Rows[i]
		}
	}
	if k3s1024 == nil || k3s1024.A == nil || k3s1024.B == nil {
		t.Fatalf("k3s at 1024 MiB not matched: %+v", c.Rows)
	}
	if k3s1024.A.Nodes != 3 || k3s1024.A.APIVerdict != "mixed" || k3s1024.A.APIVerdicts[results.APIResponsive] != 2 {
		t.Errorf("A side %+v", k3s1024.A)
	}
	if d := k3s1024.DeltaIdleMiB; d == nil || *d < -106 || *d > -105 {
		t.Errorf("Δ idle %v, want 614.4 − 720", deref(d))
	}
	md := c.Markdown()
	if !strings.Contains(md, "| k3s | 1024 | v1.31.4+k3s1 | v1.31.4+k3s1 | 720 (701–760) | 614 | −106 (−15%) |") ||
		!strings.Contains(md, "responsive 2/3, unresponsive 1/3 | responsive (changed) |") {
		t.Errorf("comparison:\n%s", md)
	}
}

func f(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func sameF(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	d := *a - *b
	return d > -0.01 && d < 0.01
}

// A cloud run beside a local one: each side says where it ran, the AMI
// beside the local image's digest, and the systems line up by size.
func TestCompareCloudWithLocal(t *testing.T) {
	local := makeRun("20261203T090000Z-local",
		node{name: "bare", profile: "bare", size: 1024, idle: []float64{167}, hypervisor: "libvirt/kvm"},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{216}, work: []float64{396}, api: results.APIResponsive, hypervisor: "libvirt/kvm"},
	)
	cloud := makeRun("20261203T100000Z-aws",
		node{name: "bare", profile: "bare", size: 1024, idle: []float64{181}, hypervisor: "aws/xen"},
		node{name: "docker", profile: "docker", size: 1024, idle: []float64{230}, work: []float64{410}, api: results.APIResponsive, hypervisor: "aws/xen"},
	)
	for i := range local.Nodes {
		local.Nodes[i].Machine.Backend = "libvirt"
	}
	for i := range cloud.Nodes {
		m := cloud.Nodes[i].Machine
		m.Backend, m.Region, m.InstanceType, m.ImageID, m.DomainType = "aws", "eu-west-1", "t2.micro", "ami-0abc", "xen"
		m.Image, m.ImageSHA256 = "ubuntu-minimal/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-minimal-20261101", ""
	}
	c := Compare(local, cloud)
	if len(c.A.Where) != 1 || c.A.Where[0] != "libvirt" || len(c.B.Where) != 1 || c.B.Where[0] != "aws t2.micro in eu-west-1" {
		t.Errorf("where: A %v, B %v", c.A.Where, c.B.Where)
	}
	md := c.Markdown()
	for _, want := range []string{"| Where | libvirt | aws t2.micro in eu-west-1 |", "| Hypervisor | libvirt/kvm | aws/xen |", "(ami-0abc)"} {
		if !strings.Contains(md, want) {
			t.Errorf("compare lacks %q:\n%s", want, md)
		}
	}
	for _, r := range c.Rows {
		if r.A == nil || r.B == nil || r.DeltaIdleMiB == nil {
			t.Errorf("%s: not side by side: %+v", r.Profile, r)
		}
	}
	if r := c.Rows[0]; r.Profile != "bare" || *r.DeltaIdleMiB != 14 {
		t.Errorf("bare Δ idle %v, want +14", deref(r.DeltaIdleMiB))
	}
}
