package infra

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/profiles"
)

func TestPlanExpandsProfilesSizesAndRepeats(t *testing.T) {
	exp, err := config.Parse(map[string]string{
		"profiles": "bare,docker", "memorySizesMiB": "[512, 1024]", "repeats": "2",
		"networkCidr": "10.50.0.0/24", "mysqlPassword": "0123456789abcdef",
	}, Source("footprint", "sweep", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := Plan(exp, "footprint-sweep")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		node    string
		profile string
		size    int
		repeat  int
	}{
		{"bare-512m-r1", "bare", 512, 1}, {"bare-512m-r2", "bare", 512, 2},
		{"bare-1024m-r1", "bare", 1024, 1}, {"bare-1024m-r2", "bare", 1024, 2},
		{"docker-512m-r1", "docker", 512, 1}, {"docker-512m-r2", "docker", 512, 2},
		{"docker-1024m-r1", "docker", 1024, 1}, {"docker-1024m-r2", "docker", 1024, 2},
	}
	if len(specs) != len(want) || exp.NodeCount() != len(want) {
		t.Fatalf("%d specs (NodeCount %d), want %d", len(specs), exp.NodeCount(), len(want))
	}
	names, addrs, macs := map[string]bool{}, map[netip.Addr]bool{}, map[string]bool{}
	for i, s := range specs {
		w := want[i]
		if s.Node != w.node || s.Profile != w.profile || s.MemoryMiB != w.size || s.Repeat != w.repeat {
			t.Errorf("spec %d = %s/%s/%d/r%d, want %+v", i, s.Node, s.Profile, s.MemoryMiB, s.Repeat, w)
		}
		if s.Name != "footprint-sweep-"+w.node {
			t.Errorf("libvirt name %q", s.Name)
		}
		if names[s.Name] || addrs[s.Address] || macs[s.MAC] {
			t.Errorf("%s: name, address or MAC not unique", s.Node)
		}
		names[s.Name], addrs[s.Address], macs[s.MAC] = true, true, true
		if !exp.NetworkCIDR.Contains(s.Address) || s.Address == Gateway(exp.NetworkCIDR) {
			t.Errorf("%s: address %s outside the subnet or on the gateway", s.Node, s.Address)
		}
	}
	if specs[0].Address.String() != "10.50.0.10" || specs[7].Address.String() != "10.50.0.17" {
		t.Errorf("addresses %s..%s, want 10.50.0.10..17", specs[0].Address, specs[7].Address)
	}
}

func TestPlanKeepsTheSeedsNamesForOneRun(t *testing.T) {
	exp, err := config.Parse(map[string]string{"profiles": "bare"}, Source("footprint", "one", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := Plan(exp, "footprint-one")
	if err != nil || len(specs) != 1 || specs[0].Node != "bare" || specs[0].Repeat != 1 || specs[0].MemoryMiB != 1024 {
		t.Fatalf("%+v %v", specs, err)
	}
	if specs[0].Name != "footprint-one-bare" {
		t.Errorf("machine name %s", specs[0].Name)
	}
}

// The settle rule reaches the agent in its own units: KiB and seconds.
func TestAgentSettingsCarryTheSettleRule(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := agentSettings(config.Experiment{Settle: 30 * time.Second, SettleToleranceMiB: 3, SettleWindow: 90 * time.Second, SettleMax: 10 * time.Minute}, p, config.Secrets{})
	if a.SettleSeconds != 30 || a.SettleToleranceKiB != 3072 || a.SettleWindowSeconds != 90 || a.SettleMaxSeconds != 600 {
		t.Errorf("agent settings %+v", a)
	}
}

// A selection (a wave, footprint run --only) keeps some nodes of the
// matrix, each with the name and address it has in the whole plan.
func TestPlanOnlySomeNodes(t *testing.T) {
	exp, err := config.Parse(map[string]string{"profiles": "bare,docker", "repeats": "2", "mysqlPassword": "pw-for-the-tests-0123"},
		Source("footprint", "t", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	all, err := Plan(exp, "footprint-t")
	if err != nil {
		t.Fatal(err)
	}
	p := &Prepared{Experiment: exp, Prefix: "footprint-t", Specs: all}
	some, err := p.Select([]string{"docker-r2", "bare-r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(some) != 2 || some[0].Node != "bare-r1" || some[1].Node != "docker-r2" {
		t.Fatalf("planned %v, want bare-r1 and docker-r2 in plan order", some)
	}
	for _, s := range some {
		for _, a := range all {
			if a.Node == s.Node && (a.Address != s.Address || a.Name != s.Name || a.MAC != s.MAC) {
				t.Errorf("%s: %s %s in part, %s %s in the whole", s.Node, s.Name, s.Address, a.Name, a.Address)
			}
		}
	}
	if _, err := p.Select([]string{"k3s"}); err == nil || !strings.HasPrefix(err.Error(), `the stack has no node "k3s" (it has: bare-r1,`) {
		t.Errorf("err = %v", err)
	}
}

// A variant is planned as its profile with its options: its own nodes and
// names, the profile's install, and a result that records both.
func TestPlanAVariantBesideItsProfile(t *testing.T) {
	exp, err := config.Parse(map[string]string{
		"profiles": "kubeadm,kubeadm-slowvm", "networkCidr": "10.50.0.0/24", "mysqlPassword": "0123456789abcdef",
		"variants": `{"kubeadm-slowvm":{"profile":"kubeadm","options":["longInitTimeouts","ecdsaKeys"]}}`,
	}, Source("footprint", "variants", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := planRendered(exp, "footprint-variants")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("%d specs, want 2", len(specs))
	}
	base, tuned := specs[0], specs[1]
	if base.Node != "kubeadm" || base.Variant != "" || base.Options != nil {
		t.Errorf("base spec %+v", base)
	}
	if tuned.Node != "kubeadm-slowvm" || tuned.Profile != "kubeadm" || tuned.Variant != "kubeadm-slowvm" ||
		strings.Join(tuned.Options, ",") != "longInitTimeouts,ecdsaKeys" {
		t.Errorf("variant spec: node %q profile %q variant %q options %v", tuned.Node, tuned.Profile, tuned.Variant, tuned.Options)
	}
	if strings.Contains(base.CloudInit.UserData, "KUBEADM_INIT_TIMEOUT=") ||
		!strings.Contains(tuned.CloudInit.UserData, "KUBEADM_INIT_TIMEOUT='20m0s'") ||
		!strings.Contains(tuned.CloudInit.UserData, "KUBEADM_ENCRYPTION_ALGORITHM='ECDSA-P256'") {
		t.Error("the variant's options are not (only) in its user-data")
	}
	v := variantRecord(tuned)
	if v == nil || v.Name != "kubeadm-slowvm" || strings.Join(v.OptionNames(), ",") != "longInitTimeouts,ecdsaKeys" ||
		v.Options[0].Env["KUBEADM_INIT_TIMEOUT"] != "20m0s" || variantRecord(base) != nil {
		t.Errorf("variant record %+v", v)
	}
}

// microk8s-noha, a built-in variant, keeps its node name and is planned as
// a stack's variant: the microk8s profile with noHA, its units, and a
// result that records the variant (the report's row and the seed's figure
// go by that name).
func TestPlanTheBuiltinVariantMicroK8sNoHA(t *testing.T) {
	exp, err := config.Parse(map[string]string{
		"profiles": "microk8s,microk8s-noha", "networkCidr": "10.50.0.0/24", "mysqlPassword": "0123456789abcdef",
	}, Source("footprint", "noha", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := planRendered(exp, "footprint-noha")
	if err != nil || len(specs) != 2 {
		t.Fatalf("%d specs: %v", len(specs), err)
	}
	base, noha := specs[0], specs[1]
	if base.Variant != "" || noha.Node != "microk8s-noha" || noha.Profile != "microk8s" || noha.Variant != "microk8s-noha" ||
		strings.Join(noha.Options, ",") != "noHA" || noha.Name != "footprint-noha-microk8s-noha" {
		t.Errorf("spec: node %q profile %q variant %q options %v name %q", noha.Node, noha.Profile, noha.Variant, noha.Options, noha.Name)
	}
	if !strings.Contains(noha.CloudInit.UserData, "MICROK8S_HA_CLUSTER='disabled'") || strings.Contains(base.CloudInit.UserData, "MICROK8S_HA_CLUSTER='") ||
		!strings.Contains(noha.CloudInit.UserData, "snap.microk8s.daemon-etcd.service") {
		t.Error("the variant's option and units are not (only) in its user-data")
	}
	if v := variantRecord(noha); v == nil || v.Name != "microk8s-noha" || v.Options[0].Env["MICROK8S_HA_CLUSTER"] != "disabled" {
		t.Errorf("variant record %+v", v)
	}
}

// The tuning example validates with the real profiles and plans each
// system beside its leanest documented variant, every variant's options in
// its own user-data only.
func TestRepositoryTuningStack(t *testing.T) {
	root, _ := filepath.Abs("..")
	values, err := config.ReadStackFile(config.StackFile(root, "tuning"))
	if err != nil {
		t.Fatal(err)
	}
	values[config.KeyMySQLPassword] = "0123456789abcdef"
	exp, err := config.Parse(values, Source("footprint", "tuning", root))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := planRendered(exp, "footprint-tuning")
	if err != nil {
		t.Fatal(err)
	}
	varied := map[string]bool{}
	for _, s := range specs {
		if s.Variant != "" {
			varied[s.Profile] = true
			if !strings.Contains(s.CloudInit.UserData, ": options chosen: "+strings.Join(s.Options, " ")) {
				t.Errorf("%s: its options are not in its user-data", s.Node)
			}
		} else if strings.Contains(s.CloudInit.UserData, ": options chosen:") {
			t.Errorf("%s: a profile's node carries options", s.Node)
		}
	}
	for _, p := range []string{"docker", "k0s", "k3s", "microk8s", "kubesolo"} {
		if !slices.ContainsFunc(specs, func(s machine.Spec) bool { return s.Node == p }) || !varied[p] {
			t.Errorf("%s is not measured beside a variant of it", p)
		}
	}
}

// planRendered is the stack's plan with each node's user-data, rendered
// with a test's secrets.
func planRendered(exp config.Experiment, prefix string) ([]machine.Spec, error) {
	specs, err := Plan(exp, prefix)
	if err != nil {
		return nil, err
	}
	return Render(exp, specs, config.Secrets{WorkloadPassword: "0123456789abcdef"})
}
