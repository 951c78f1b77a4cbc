package guest

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/results"
)

const testPassword = "Zq7-stub-password-4411"

// stubbed prepares an agent run of a real profile whose commands are all
// answered by testdata/stub.sh, against fixture /proc and cgroup trees.
func stubbed(t *testing.T, name string, env ...string) (*agentRun, string) {
	t.Helper()
	p, ok := profiles.Get(name)
	if !ok {
		t.Fatalf("no profile %s", name)
	}
	return stubbedProfile(t, p, env...)
}

// stubbedProfile is stubbed for a profile as given, options chosen or not.
func stubbedProfile(t *testing.T, p profiles.Profile, env ...string) (*agentRun, string) {
	t.Helper()
	extra := "SAMPLES=2\nREADY_TIMEOUT=5\nWORKLOAD_TIMEOUT=2\nAPI_ATTEMPTS=3\nAPI_TIMEOUT=1\n" +
		"VERSION=" + shellQuote(p.DefaultVersion) + "\nUNITS=" + shellQuote(strings.Join(p.Units, " ")) + "\n"
	a := newAgentRun(t, p, extra)
	stub, err := os.ReadFile("testdata/stub.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"curl", "k3s", "k0s", "microk8s", "kubesolo", "kubectl", "docker", "dmesg", "dpkg", "tee", "free",
		"systemctl", "snap", "apt-get", "install", "chmod", "containerd"} {
		if err := os.WriteFile(filepath.Join(a.dir, "bin", cmd), stub, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel, content string) {
		path := filepath.Join(a.dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// cgroup v2 as systemd lays it out, in bytes
	write("cgroup/system.slice/memory.current", "524288000\n")
	write("cgroup/system.slice/k3s.service/memory.current", "419430400\n")
	write("cgroup/system.slice/docker.service/memory.current", "62914560\n")
	write("cgroup/system.slice/docker-4f2a.scope/memory.current", "157286400\n")
	write("cgroup/kubepods.slice/memory.current", "209715200\n")
	write("cgroup/kubepods.slice/kubepods-burstable.slice/memory.current", "104857600\n")
	write("cgroup/init.scope/memory.current", "8388608\n")
	write("cgroup/user.slice/memory.current", "4096\n") // under 1 MiB: left out
	// processes
	write("proc/1/status", "Name:\tsystemd\nPid:\t1\nVmRSS:\t   9120 kB\n")
	write("proc/700/status", "Name:\tk3s-server\nPid:\t700\nVmRSS:\t 402112 kB\n")
	write("proc/900/status", "Name:\tmysqld\nPid:\t900\nVmRSS:\t 380000 kB\n")
	write("proc/2/status", "Name:\tkthreadd\nPid:\t2\n")
	// the workload's password lives in the root-only file
	write("secret.env", SecretEnv(Node{Agent: AgentSettings{WorkloadPassword: testPassword}}))
	log := filepath.Join(a.dir, "stub.log")
	fixtures, err := filepath.Abs("testdata/k8s-api")
	if err != nil {
		t.Fatal(err)
	}
	a.env = append(a.env, "STUB_LOG="+log, "STUB_FIXTURES="+fixtures, "FOOTPRINT_SECRET_CONF="+filepath.Join(a.dir, "secret.env"))
	a.env = append(a.env, env...)
	return a, log
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// What each profile's install must run, as its documentation says.
var documentedInstall = map[string][]string{
	"docker": {"curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc",
		"apt-get install -y docker-ce=5:29.8.1-1~ubuntu.", "containerd.io docker-buildx-plugin docker-compose-plugin"},
	"k0s":           {"curl -sSLf https://get.k0s.sh", "k0s install controller --single", "k0s start"},
	"k3s":           {"curl -sfL https://get.k3s.io"},
	"microk8s":      {"snap install microk8s --classic --channel=1.36/stable", "microk8s status --wait-ready"},
	"microk8s-noha": {"snap install microk8s --classic --channel=1.36/stable", "microk8s disable ha-cluster --force"},
	"kubesolo":      {"curl -sfL https://get.kubesolo.io"},
	// Checked in the hook's text: its install writes /etc files the stub
	// cannot intercept, so the host test runs it as preinstalled (the real
	// install runs on a real VM in e2e/kubeadm_test.go).
	"kubeadm": {"https://pkgs.k8s.io/core:/stable:/v$minor/deb/", `apt-get install -y "kubelet=$pkg" "kubeadm=$pkg" "kubectl=$pkg"`,
		"apt-mark hold kubelet kubeadm kubectl", "kubeadm init --config", `--ignore-preflight-errors="$KUBEADM_IGNORED"`,
		"/kube-flannel.yml", "taint nodes --all node-role.kubernetes.io/control-plane-"},
}

// installWritesHost lists profiles whose install writes files a stub cannot
// intercept (redirections into /etc): on the test host they run preinstalled.
var installWritesHost = map[string]bool{"kubeadm": true}

// What each profile's version hook reads back from the stub's answers.
var stubSystemVersion = map[string]string{
	"kubesolo": "kubesolo v1.2.2 (kubernetes v1.35.7, containerd://2.1.4)",
	"kubeadm":  "kubernetes v1.36.3 (kubeadm; containerd v2.3.7, etcd 3.6.8-0)",
}

func TestEveryProfileHappyPath(t *testing.T) {
	for _, name := range profiles.Names() {
		if name == "bare" {
			continue // TestAgentBareHappyPath
		}
		t.Run(name, func(t *testing.T) {
			p, _ := profiles.Get(name)
			a, log := stubbed(t, name)
			installPhase := "install=ok"
			if installWritesHost[name] {
				installPhase = "install=preinstalled"
				f, err := os.OpenFile(filepath.Join(a.dir, "agent.env"), os.O_APPEND|os.O_WRONLY, 0)
				if err == nil {
					_, err = f.WriteString("PREINSTALLED=1\n")
					f.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			r, console := a.run(t)

			if r.Status != results.StatusOK {
				t.Fatalf("status %s detail %q", r.Status, r.Detail)
			}
			want := "boot=ok " + installPhase + " ready=ok settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok"
			if got := r.PhaseList(); got != want {
				t.Errorf("phases\n got %s\nwant %s", got, want)
			}
			if r.RequestedVersion != p.DefaultVersion || r.SystemVersion == "" {
				t.Errorf("versions: requested %q system %q", r.RequestedVersion, r.SystemVersion)
			}
			if want, ok := stubSystemVersion[name]; ok && r.SystemVersion != want {
				t.Errorf("system version %q, want %q", r.SystemVersion, want)
			}
			if p.Kubernetes != nil {
				checkAPIAnswers(t, r)
			}
			if _, ok := documentedInstall[name]; !ok {
				t.Errorf("no documented install commands listed for %s", name)
			}
			if idle, ok := r.Summarize("idle"); !ok || idle.Samples != 2 {
				t.Errorf("idle samples %+v", idle)
			}
			if w, ok := r.Summarize("workload"); !ok || w.Samples != 2 {
				t.Errorf("workload samples %+v", w)
			}
			for _, phase := range []results.PhaseName{results.PhaseIdle, results.PhaseWorkload} {
				b, ok := r.BreakdownOf(phase)
				if !ok {
					t.Fatalf("no %s breakdown", phase)
				}
				if len(b.UnitsKiB) != len(p.Units) {
					t.Errorf("%s: units %v, want one entry per unit of %v", phase, b.UnitsKiB, p.Units)
				}
				for _, u := range p.Units {
					v, present := b.UnitsKiB[u]
					switch u {
					case "k3s.service":
						if v == nil || *v != 409600 {
							t.Errorf("%s: %s = %v, want 409600 KiB", phase, u, v)
						}
					case "docker.service":
						if v == nil || *v != 61440 {
							t.Errorf("%s: %s = %v, want 61440 KiB", phase, u, v)
						}
					default:
						if !present || v != nil {
							t.Errorf("%s: %s = %v, want null (no such cgroup)", phase, u, v)
						}
					}
				}
				if b.CgroupsKiB["system.slice/docker-4f2a.scope"] != 153600 || b.CgroupsKiB["kubepods.slice"] != 204800 ||
					b.CgroupsKiB["kubepods.slice/kubepods-burstable.slice"] != 102400 || b.CgroupsKiB["init.scope"] != 8192 {
					t.Errorf("%s: cgroups %v", phase, b.CgroupsKiB)
				}
				if _, small := b.CgroupsKiB["user.slice"]; small {
					t.Errorf("%s: a cgroup under 1 MiB was listed", phase)
				}
				if len(b.TopProcesses) != 3 || b.TopProcesses[0].Name != "k3s-server" || b.TopProcesses[0].RSSKiB != 402112 ||
					b.TopProcesses[1].Name != "mysqld" || b.TopProcesses[2].PID != 1 {
					t.Errorf("%s: top processes %+v", phase, b.TopProcesses)
				}
				if b.OOMKills != 0 {
					t.Errorf("%s: %d OOM kills with a clean kernel log", phase, b.OOMKills)
				}
			}
			if r.API == nil || r.API.Verdict != results.APIResponsive || r.API.Successes != 3 || len(r.API.Attempts) != 3 ||
				r.API.Attempts[0].HTTPCode != 200 || r.API.Attempts[0].Seconds == nil || *r.API.Attempts[0].Seconds < 0.012 ||
				!strings.HasPrefix(r.API.Client, "curl") {
				t.Errorf("api %+v", r.API)
			}

			calls := readFile(t, log)
			for _, want := range documentedInstall[name] {
				if installWritesHost[name] {
					if !strings.Contains(p.Functions+p.Hooks["install"], want) {
						t.Errorf("install hook lacks %q", want)
					}
					continue
				}
				if !strings.Contains(calls, want) {
					t.Errorf("install did not run %q; calls:\n%s", want, calls)
				}
			}
			// The password reaches the workload, and nothing the agent shows.
			shown := readFile(t, filepath.Join(a.dir, "state/www/result.json")) + console + calls
			b64 := base64.StdEncoding.EncodeToString([]byte(testPassword))
			if strings.Contains(shown, testPassword) || strings.Contains(shown, b64) {
				t.Error("the MySQL password appears in the result, the console or a command line")
			}
			if manifest, err := os.ReadFile(log + ".manifest"); err == nil {
				if !strings.Contains(string(manifest), b64) {
					t.Error("the Kubernetes Secret does not carry the password")
				}
				// workloadReady reads the Deployment's ready replicas: they
				// mean something only with a readiness probe.
				if !strings.Contains(string(manifest), "readinessProbe:\n            tcpSocket:\n              port: 3306") {
					t.Errorf("the MySQL Deployment has no TCP readiness probe on 3306:\n%s", manifest)
				}
			}
		})
	}
}

func TestWorkloadThatNeverBecomesReadyIsMeasuredAnyway(t *testing.T) {
	a, _ := stubbed(t, "k3s", "STUB_MYSQL=down")
	r, console := a.run(t)
	want := "boot=ok install=ok ready=ok settle=ok idle=ok workload=ok workloadReady=timeout settle-workload=ok workload=ok api=ok"
	if got := r.PhaseList(); got != want {
		t.Errorf("phases\n got %s\nwant %s", got, want)
	}
	if r.Status != results.StatusOK {
		t.Errorf("status %s: a MySQL that never answers is a finding, not a failed run", r.Status)
	}
	if _, ok := r.Summarize("workload"); !ok {
		t.Error("no workload samples")
	}
	if !strings.Contains(console, "phase=workloadReady status=timeout") {
		t.Errorf("console lacks the timeout:\n%s", console)
	}
}

func TestAPIThatNeverAnswersIsUnresponsive(t *testing.T) {
	for _, name := range []string{"docker", "microk8s", "kubesolo"} {
		t.Run(name, func(t *testing.T) {
			a, _ := stubbed(t, name, "STUB_API=down")
			r, console := a.run(t)
			if r.API == nil || r.API.Verdict != results.APIUnresponsive || r.API.Successes != 0 || len(r.API.Attempts) != 3 {
				t.Fatalf("api %+v", r.API)
			}
			for _, at := range r.API.Attempts {
				if at.OK || at.HTTPCode != 0 {
					t.Errorf("attempt %+v", at)
				}
			}
			if _, _, ok := r.API.Latency(); ok {
				t.Error("latency reported without a successful attempt")
			}
			if !strings.Contains(console, "api verdict=unresponsive successes=0 attempts=3") {
				t.Errorf("console lacks the verdict:\n%s", console)
			}
		})
	}
}

func TestOOMKillInTheKernelLog(t *testing.T) {
	dmesg := filepath.Join(t.TempDir(), "dmesg")
	lines := "[  812.4] mysqld invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0\n" +
		"[  812.5] Out of memory: Killed process 2211 (mysqld) total-vm:1300000kB, anon-rss:350000kB\n" +
		"[  813.0] unrelated: eth0 link up\n"
	if err := os.WriteFile(dmesg, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := stubbed(t, "k0s", "STUB_DMESG="+dmesg)
	r, _ := a.run(t)
	b, ok := r.BreakdownOf("workload")
	if !ok || b.OOMKills != 1 || len(b.KernelLog) != 2 || !strings.Contains(b.KernelLog[1], "Killed process 2211 (mysqld)") {
		t.Errorf("breakdown %+v", b)
	}
}

// The shared ready check wants minSystemPods kube-system pods: one unless the
// profile says otherwise, none after MicroK8s' HA reset.
func TestReadyWithAnEmptyKubeSystem(t *testing.T) {
	for name, wantReady := range map[string]results.Status{"microk8s-noha": results.StatusOK, "k3s": results.StatusTimeout} {
		t.Run(name, func(t *testing.T) {
			a, _ := stubbed(t, name, "STUB_PODS=none")
			r, _ := a.run(t)
			var got results.Status
			for _, ph := range r.Phases {
				if ph.Name == "ready" {
					got = ph.Status
				}
			}
			if got != wantReady {
				t.Errorf("ready %q with no kube-system pods, want %q (phases %s)", got, wantReady, r.PhaseList())
			}
		})
	}
}

// checkAPIAnswers: a Kubernetes profile's result carries the API server's
// answers it read, as the stub gave them from the recorded fixtures.
func checkAPIAnswers(t *testing.T, r results.Result) {
	t.Helper()
	got := map[string]string{}
	for _, a := range r.APIAnswers {
		got[a.Path+" "+a.Which] = a.HTTP
	}
	for _, want := range []string{"/readyz last", "/apis/apps/v1/namespaces/default/deployments/footprint-mysql last"} {
		http, ok := got[want]
		if !ok || !strings.HasPrefix(http, "HTTP/") || !strings.Contains(http, "\n\n") {
			t.Errorf("answer %q: %q (all: %v)", want, http, got)
		}
	}
}
