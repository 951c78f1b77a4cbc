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
// says: the chosen options' variables, above the profile's functions, the
// units the agent accounts where the option runs others, and the configure
// hook that applies options to a preinstalled system, where the profile has
// one.
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
				t.Logf("%s with %s adds to the user-data: %s", name, opt, strings.Join(added, " | "))
				var want []string
				for k, v := range p.Options[opt].Env {
					want = append(want, k+"="+shellQuote(v))
				}
				sort.Strings(want)
				want = append([]string{": options chosen: " + opt}, want...)
				if units := p.Options[opt].Units; len(units) > 0 {
					want = append([]string{"UNITS=" + shellQuote(strings.Join(units, " "))}, want...)
					want = append(want, "REMOVED: UNITS="+shellQuote(strings.Join(p.Units, " ")))
				}
				want = append(want, configureLines(p)...)
				sort.Strings(added)
				sort.Strings(want)
				if !slices.Equal(added, want) {
					t.Errorf("the option added\n%s\nwant\n%s", strings.Join(added, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}

// configureLines are the lines of the profile's configure hook as shipped,
// trimmed: a profile's defaults never ship it.
func configureLines(p profiles.Profile) []string {
	body, ok := p.Hooks[profiles.HookConfigure]
	if !ok {
		return nil
	}
	out := []string{"fp_configure() {", "}"}
	for _, l := range strings.Split(Shipped(body), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
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

// installCalls runs a profile's install hook as the agent would, every
// command answered by testdata/stub.sh, and returns the commands it ran and
// the files it wrote with tee, each "== PATH" and its content.
func installCalls(t *testing.T, p profiles.Profile) []string {
	t.Helper()
	a, log := stubbedProfile(t, p)
	run := filepath.Join(a.dir, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `. "$1"; fp_install`, "sh", filepath.Join(a.dir, "profile.sh"))
	cmd.Env = append(a.env, "VERSION="+p.DefaultVersion, "RUN_DIR="+run, "FACTS="+filepath.Join(run, "facts"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s install: %v\n%s", p.Name, err, out)
	}
	calls := readFile(t, log)
	if files, err := os.ReadFile(log + ".files"); err == nil {
		calls += string(files)
	}
	return strings.Split(strings.TrimRight(calls, "\n"), "\n")
}

// What each option adds to its profile's install, as its project documents
// the setting: the commands the install runs and the files it writes, in
// order, beyond those of the profile's own install. kubeadm's options are
// in its configuration file (TestKubeadmConfigIsKubeadmsDefaultsUnless...).
var optionInstalls = map[string]map[string][]string{
	"k3s": {
		"disableAddons": {"install -d -m 0755 /etc/rancher/k3s", "tee /etc/rancher/k3s/config.yaml",
			"== /etc/rancher/k3s/config.yaml", "disable:", "- traefik", "- servicelb", "- metrics-server", "- local-storage"},
		"disableCoreDNS": {"install -d -m 0755 /etc/rancher/k3s", "tee /etc/rancher/k3s/config.yaml",
			"== /etc/rancher/k3s/config.yaml", "disable:", "- coredns"},
		"embeddedEtcd": {"install -d -m 0755 /etc/rancher/k3s", "tee /etc/rancher/k3s/config.yaml",
			"== /etc/rancher/k3s/config.yaml", "cluster-init: true"},
		"goMemLimit": {"install -d -m 0755 /etc/systemd/system/k3s.service.d", "tee /etc/systemd/system/k3s.service.d/gomemlimit.conf",
			"== /etc/systemd/system/k3s.service.d/gomemlimit.conf", "[Service]", "Environment=GOMEMLIMIT=800MiB"},
	},
	"docker": {
		"noUserlandProxy": {"install -d -m 0755 /etc/docker", "tee /etc/docker/daemon.json", "== /etc/docker/daemon.json",
			"{", `"userland-proxy": false`, "}"},
		"goMemLimit": {"install -d -m 0755 /etc/systemd/system/docker.service.d", "tee /etc/systemd/system/docker.service.d/gomemlimit.conf",
			"install -d -m 0755 /etc/systemd/system/containerd.service.d", "tee /etc/systemd/system/containerd.service.d/gomemlimit.conf",
			"== /etc/systemd/system/docker.service.d/gomemlimit.conf", "[Service]", "Environment=GOMEMLIMIT=800MiB",
			"== /etc/systemd/system/containerd.service.d/gomemlimit.conf", "[Service]", "Environment=GOMEMLIMIT=800MiB"},
	},
	"k0s": {
		"disableMetricsServer": {"k0s install controller --single --disable-components=metrics-server", "REMOVED: k0s install controller --single"},
		"disableAutopilot": {"k0s install controller --single --disable-components=autopilot,update-prober",
			"REMOVED: k0s install controller --single"},
		"goMemLimit": {"install -d -m 0755 /etc/systemd/system/k0scontroller.service.d",
			"tee /etc/systemd/system/k0scontroller.service.d/gomemlimit.conf",
			"== /etc/systemd/system/k0scontroller.service.d/gomemlimit.conf", "[Service]", "Environment=GOMEMLIMIT=800MiB"},
	},
	"kubesolo": {
		"lowMemoryRuntime": {"install -d -m 0755 /etc/systemd/system/kubesolo.service.d", "tee /etc/systemd/system/kubesolo.service.d/go-runtime.conf",
			"== /etc/systemd/system/kubesolo.service.d/go-runtime.conf", "[Service]", "Environment=GOGC=30 GOMEMLIMIT=75MiB GOMAXPROCS=1"},
		"goMemLimit": {"install -d -m 0755 /etc/systemd/system/kubesolo.service.d", "tee /etc/systemd/system/kubesolo.service.d/go-runtime.conf",
			"== /etc/systemd/system/kubesolo.service.d/go-runtime.conf", "[Service]", "Environment=GOMEMLIMIT=800MiB"},
	},
	"microk8s": {
		"noHA": {"microk8s disable ha-cluster --force", "microk8s status --wait-ready --timeout 1800",
			"systemctl is-active --quiet snap.microk8s.daemon-etcd.service", "systemctl is-active --quiet snap.microk8s.daemon-flanneld.service"},
	},
}

// firstStart is the command of each install that first starts the system:
// what an option writes must be in place before it.
var firstStart = map[string]string{
	"docker":   "apt-get install -y docker-ce=",
	"k0s":      "k0s start",
	"k3s":      "curl -sfL https://get.k3s.io",
	"kubesolo": "curl -sfL https://get.kubesolo.io",
}

// writtenBefore: every file an install writes with tee is written before
// the command that starts the system.
func writtenBefore(t *testing.T, calls []string, start string) {
	t.Helper()
	started := slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, start) })
	for i, c := range calls {
		if strings.HasPrefix(c, "tee /etc/") && (started < 0 || i > started) {
			t.Errorf("%q runs after %q", c, start)
		}
	}
}

func TestEachOptionRendersWhereItsDocumentationSays(t *testing.T) {
	for _, name := range profiles.All() {
		if name == "kubeadm" {
			continue
		}
		p, _ := profiles.Get(name)
		options := profiles.OptionNames(name)
		if len(options) != len(optionInstalls[name]) {
			t.Errorf("%s declares options %v; this test knows %d", name, options, len(optionInstalls[name]))
		}
		if len(options) == 0 {
			continue
		}
		base := strings.Join(installCalls(t, p), "\n")
		for _, opt := range options {
			t.Run(name+"/"+opt, func(t *testing.T) {
				q, err := p.With([]string{opt})
				if err != nil {
					t.Fatal(err)
				}
				calls := installCalls(t, q)
				got := addedLines(base, strings.Join(calls, "\n"))
				if want := optionInstalls[name][opt]; !slices.Equal(got, want) {
					t.Errorf("the install added\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if start, ok := firstStart[name]; ok {
					writtenBefore(t, calls, start)
				}
			})
		}
	}
}

// k3s: the two --disable options make one list; the air-gap install reads
// the same configuration, written before its install script starts k3s;
// and with nothing packaged left, the ready check wants no kube-system pod.
func TestK3sOptionsCompose(t *testing.T) {
	p, _ := profiles.Get("k3s")
	q, err := p.With([]string{"disableAddons", "disableCoreDNS", "embeddedEtcd"})
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Join(installCalls(t, q), "\n")
	want := "== /etc/rancher/k3s/config.yaml\ndisable:\n  - traefik\n  - servicelb\n  - metrics-server\n  - local-storage\n  - coredns\ncluster-init: true"
	if !strings.Contains(calls, want) {
		t.Errorf("configuration written:\n%s\nwant\n%s", calls, want)
	}
	offline := q.Hooks[profiles.HookInstallOffline]
	if i, j := strings.Index(offline, "k3s_options"), strings.Index(offline, `INSTALL_K3S_SKIP_DOWNLOAD=true sh "$ARTIFACTS/install.sh"`); i < 0 || j < i {
		t.Error("the air-gap install does not write the options' settings before its install script")
	}
	a, _ := stubbedProfile(t, q, "STUB_PODS=none")
	if r, _ := a.run(t); !strings.Contains(r.PhaseList(), "ready=ok") {
		t.Errorf("no kube-system pod to wait for, yet phases %s", r.PhaseList())
	}
}

// k0s: the disable options make one --disable-components, online and in
// the air-gap install, whose service gets the same drop-in.
func TestK0sOptionsCompose(t *testing.T) {
	p, _ := profiles.Get("k0s")
	q, err := p.With([]string{"disableMetricsServer", "disableAutopilot"})
	if err != nil {
		t.Fatal(err)
	}
	want := "k0s install controller --single --disable-components=metrics-server,autopilot,update-prober"
	if calls := installCalls(t, q); !slices.Contains(calls, want) {
		t.Errorf("calls %v lack %q", calls, want)
	}
	offline := q.Hooks[profiles.HookInstallOffline]
	if !strings.Contains(offline, "k0s_options\n") || !strings.Contains(offline, `k0s install controller --single ${disabled:+"--disable-components=$disabled"}`) {
		t.Error("the air-gap install does not install with the options' settings")
	}
}

// KubeSolo: its low-memory settings and the plain limit set one variable
// differently, so a variant that chose both is refused; the air-gap install
// writes the same drop-in before kubesoloctl installs the service.
func TestKubeSoloRuntimeOptions(t *testing.T) {
	p, _ := profiles.Get("kubesolo")
	q, err := p.With([]string{"lowMemoryRuntime", "goMemLimit"})
	if err == nil {
		_, err = q.ChosenEnv()
	}
	if err == nil || !strings.Contains(err.Error(), "both set KUBESOLO_GOMEMLIMIT") {
		t.Errorf("both runtime options: %v", err)
	}
	offline := p.Hooks[profiles.HookInstallOffline]
	if i, j := strings.Index(offline, "kubesolo_options"), strings.Index(offline, `"$stage/kubesoloctl" install`); i < 0 || j < i {
		t.Error("the air-gap install does not write the options' drop-in before kubesoloctl installs the service")
	}
}
