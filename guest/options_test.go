package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/profiles"
)

// A variant's user-data differs from its profile's only where the variant
// says: the chosen options' variables, above the profile's functions, and
// the units the agent accounts where the option runs others.
func TestAnOptionChangesTheUserDataOnlyByItsSettings(t *testing.T) {
	for _, name := range profiles.Names() {
		p, _ := profiles.Get(name)
		base := renderProfile(t, p)
		for _, opt := range profiles.OptionNames(name) {
			t.Run(name+"/"+opt, func(t *testing.T) {
				q, err := p.With([]string{opt})
				if err != nil {
					t.Fatal(err)
				}
				added := addedLines(base, renderProfile(t, q))
				var want []string
				for k, v := range p.Options[opt].Env {
					want = append(want, k+"="+shellQuote(v))
				}
				sort.Strings(want)
				want = append([]string{"# options chosen: " + opt}, want...)
				if units := p.Options[opt].Units; len(units) > 0 {
					want = append([]string{"UNITS=" + shellQuote(strings.Join(units, " "))}, want...)
					want = append(want, "REMOVED: UNITS="+shellQuote(strings.Join(p.Units, " ")))
				}
				if !slices.Equal(added, want) {
					t.Errorf("the option added\n%s\nwant\n%s", strings.Join(added, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}

func renderProfile(t *testing.T, p profiles.Profile) string {
	t.Helper()
	r, err := Render(Node{Name: "n", InstanceID: "i", Profile: p, Address: "10.70.0.10", MAC: "52:54:00:00:00:01",
		Agent: AgentSettings{SettleSeconds: 60, Samples: 5, IntervalSeconds: 5}})
	if err != nil {
		t.Fatal(err)
	}
	return r.UserData
}

// addedLines are b's lines that a lacks, trimmed, in b's order; a line a has
// that b lacks is an error of the caller's to see as a difference too.
func addedLines(a, b string) []string {
	have := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		have[strings.TrimSpace(l)]++
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		l = strings.TrimSpace(l)
		if have[l] > 0 {
			have[l]--
			continue
		}
		out = append(out, l)
	}
	for l, n := range have {
		if n > 0 && l != "" {
			out = append(out, "REMOVED: "+l)
		}
	}
	return out
}

// kubeadm's configuration holds kubeadm's defaults without options, and
// each slow-machine option adds exactly its own setting.
func TestKubeadmConfigIsKubeadmsDefaultsUnlessAnOptionSaysOtherwise(t *testing.T) {
	p, _ := profiles.Get("kubeadm")
	base := kubeadmConfig(t, p)
	for _, tuned := range []string{"encryptionAlgorithm", "patches:", "timeouts:", "heartbeat-interval", "election-timeout", "leader-elect", "etcd:"} {
		if strings.Contains(base, tuned) {
			t.Errorf("kubeadm's configuration without options sets %q:\n%s", tuned, base)
		}
	}
	want := map[string][]string{
		"ecdsaKeys":      {"encryptionAlgorithm: ECDSA-P256"},
		"etcdCpuRequest": {"patches:", "directory: RUN_DIR/kubeadm-patches", "patch: spec: containers: - name: etcd resources: requests: cpu: 400m"},
		"etcdSlowTimeouts": {"etcd:", "local:", "extraArgs:", "- name: heartbeat-interval", `value: "500"`,
			"- name: election-timeout", `value: "5000"`},
		"slowLeaderElection": {"controllerManager:", "extraArgs:", "- name: leader-elect-lease-duration", `value: "60s"`,
			"- name: leader-elect-renew-deadline", `value: "40s"`, "- name: leader-elect-retry-period", `value: "10s"`,
			"scheduler:", "extraArgs:", "- name: leader-elect-lease-duration", `value: "60s"`,
			"- name: leader-elect-renew-deadline", `value: "40s"`, "- name: leader-elect-retry-period", `value: "10s"`},
		"longInitTimeouts": {"timeouts:", "controlPlaneComponentHealthCheck: 20m0s", "kubeletHealthCheck: 20m0s", "kubernetesAPICall: 20m0s"},
	}
	if got := profiles.OptionNames("kubeadm"); len(got) != len(want) {
		t.Errorf("kubeadm declares %v; this test knows %d", got, len(want))
	}
	for opt, lines := range want {
		q, err := p.With([]string{opt})
		if err != nil {
			t.Fatal(err)
		}
		if got := addedLines(base, kubeadmConfig(t, q)); !slices.Equal(got, lines) {
			t.Errorf("%s added\n%s\nwant\n%s", opt, strings.Join(got, "\n"), strings.Join(lines, "\n"))
		}
	}
}

// kubeadmConfig runs the profile's kubeadm_config in a shell, as the guest
// would, and returns the file with the etcd patch, if any, appended.
func kubeadmConfig(t *testing.T, p profiles.Profile) string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "profile.sh")
	if err := os.WriteFile(script, []byte(ProfileScript(p)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(filepath.Join(run, "kubeadm-patches"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `. "$1"; kubeadm_config`, "sh", script)
	cmd.Env = append(os.Environ(), "RUN_DIR="+run, "VERSION=v1.36.3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubeadm_config: %v\n%s", err, out)
	}
	config := strings.ReplaceAll(string(out), run, "RUN_DIR")
	if patch, err := os.ReadFile(filepath.Join(run, "kubeadm-patches", "etcd+strategic.yaml")); err == nil {
		config += "patch: " + strings.Join(strings.Fields(string(patch)), " ")
	}
	return config
}
