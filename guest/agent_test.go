package guest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/results"
)

const fixtureMeminfo = `MemTotal:         996452 kB
MemFree:          601234 kB
MemAvailable:     832612 kB
Buffers:           12000 kB
Cached:           210000 kB
SwapCached:            0 kB
Shmem:              1100 kB
SReclaimable:      20100 kB
SwapTotal:             0 kB
SwapFree:              0 kB
AnonPages:         61200 kB
Slab:              45000 kB
SUnreclaim:        24900 kB
KernelStack:        2100 kB
PageTables:         1900 kB
Percpu:              880 kB
`

// agentRun runs the shipped agent script on the host against fixture files:
// a fake /proc, os-release, cloud-init's boot-finished marker and a stub
// `free`, with serving switched off.
type agentRun struct {
	dir   string
	env   []string
	hooks string
}

func newAgentRun(t *testing.T, p profiles.Profile, extraEnv string) *agentRun {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		t.Helper()
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/meminfo", fixtureMeminfo, 0o644)
	write("proc/uptime", "42.50 40.00\n", 0o644)
	write("proc/sys/kernel/osrelease", "6.1.0-fixture-cloud-amd64\n", 0o644)
	write("os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", 0o644)
	write("boot-finished", "", 0o644)
	write("cloud-init-output.log", "Cloud-init v. 22.4.2 finished at Wed, 25 Nov 2026 12:39:30 +0000. Up 50.1 seconds\n", 0o644)
	// free -k as procps prints it; used column 150000
	write("bin/free", "#!/bin/sh\necho '               total        used        free      shared  buff/cache   available'\necho 'Mem:          996452      150000      601234        1100      242100      832612'\n", 0o755)
	n := Node{Name: "bare", Profile: p, Address: "127.0.0.1", Agent: AgentSettings{SettleSeconds: 0, Samples: 3, IntervalSeconds: 0}}
	write("agent.env", AgentEnv(n)+extraEnv, 0o644)
	write("profile.sh", Shipped(ProfileScript(p)), 0o644)
	write("agent.sh", Shipped(AgentScript()), 0o755)
	return &agentRun{dir: dir, env: append(os.Environ(),
		"PATH="+filepath.Join(dir, "bin")+":"+os.Getenv("PATH"),
		"FOOTPRINT_CONF="+filepath.Join(dir, "agent.env"),
		"FOOTPRINT_STATE="+filepath.Join(dir, "state"),
		"FOOTPRINT_HOOKS="+filepath.Join(dir, "profile.sh"),
		"FOOTPRINT_PROC="+filepath.Join(dir, "proc"),
		"FOOTPRINT_OS_RELEASE="+filepath.Join(dir, "os-release"),
		"FOOTPRINT_BOOT_FINISHED="+filepath.Join(dir, "boot-finished"),
		"FOOTPRINT_NO_SERVE=1",
		"FOOTPRINT_RETRY_PAUSE=0",
		"FOOTPRINT_RUN_DIR="+filepath.Join(dir, "run"),
		"FOOTPRINT_CLOUD_INIT_LOG="+filepath.Join(dir, "cloud-init-output.log"),
		"FOOTPRINT_CGROUP="+filepath.Join(dir, "cgroup"),
		// Not under systemd, whatever the host runs: hooks run in the agent's
		// own process tree (useSystemd switches to their units).
		"FOOTPRINT_RUN_SYSTEMD="+filepath.Join(dir, "no-systemd"),
	)}
}

func (a *agentRun) run(t *testing.T) (results.Result, string) {
	t.Helper()
	cmd := exec.Command("sh", filepath.Join(a.dir, "agent.sh"))
	cmd.Env = a.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("agent: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(a.dir, "state/www/result.json"))
	if err != nil {
		t.Fatalf("no result file: %v\nagent said:\n%s", err, out)
	}
	r, err := results.Parse(data)
	if err != nil {
		t.Fatalf("result is not valid: %v\n%s", err, data)
	}
	return r, string(out)
}

func TestAgentBareHappyPath(t *testing.T) {
	p, _ := profiles.Get("bare")
	r, console := newAgentRun(t, p, "").run(t)

	if r.Status != results.StatusOK || r.Node != "bare" || r.Profile != "bare" {
		t.Fatalf("status/node/profile = %s/%s/%s", r.Status, r.Node, r.Profile)
	}
	if got, want := r.PhaseList(), "boot=ok install=skipped ready=skipped settle=ok idle=ok"; got != want {
		t.Errorf("phases %q, want %q", got, want)
	}
	if len(r.Samples) != 3 {
		t.Fatalf("%d samples, want 3", len(r.Samples))
	}
	for _, s := range r.Samples {
		if s.UsedKiB != 996452-832612 {
			t.Errorf("usedKiB %d, want MemTotal-MemAvailable = %d", s.UsedKiB, 996452-832612)
		}
		if s.FreeUsedKiB == nil || *s.FreeUsedKiB != 150000 {
			t.Errorf("freeUsedKiB %v, want free's column 150000", s.FreeUsedKiB)
		}
		for k, v := range map[string]int64{"MemTotal": 996452, "MemFree": 601234, "MemAvailable": 832612, "Buffers": 12000,
			"Cached": 210000, "SReclaimable": 20100, "Shmem": 1100, "SwapTotal": 0, "SwapFree": 0,
			"AnonPages": 61200, "Slab": 45000, "SUnreclaim": 24900, "KernelStack": 2100, "PageTables": 1900, "Percpu": 880} {
			if got, ok := s.MeminfoKiB[k]; !ok || got != v {
				t.Errorf("meminfo %s = %d (present %v), want %d", k, got, ok, v)
			}
		}
		if s.UptimeSeconds != 42.5 || s.Phase != "idle" {
			t.Errorf("sample phase %s uptime %v", s.Phase, s.UptimeSeconds)
		}
	}
	if r.OS.PrettyName != "Debian GNU/Linux 12 (bookworm)" || r.OS.Kernel != "6.1.0-fixture-cloud-amd64" {
		t.Errorf("os %+v", r.OS)
	}
	if r.Settings.Samples != 3 {
		t.Errorf("settings %+v", r.Settings)
	}
	for _, want := range []string{"footprint: node=bare phase=boot status=ok", "footprint: node=bare phase=idle status=ok", "footprint: node=bare phase=done status=ok"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
}

func TestAgentInstallFailureKeepsPhasesAndLogTail(t *testing.T) {
	p := profiles.Profile{Name: "broken", Hooks: map[string]string{"install": "echo fetching the installer\necho 'curl: (6) Could not resolve host' >&2\nexit 7"}}
	r, console := newAgentRun(t, p, "").run(t)
	if r.Status != results.StatusFailed {
		t.Fatalf("status %s, want failed", r.Status)
	}
	if got, want := r.PhaseList(), "boot=ok install=failed"; got != want {
		t.Errorf("phases %q, want %q", got, want)
	}
	if !strings.Contains(r.Detail, "hook install exited 7") || !strings.Contains(r.Detail, "Could not resolve host") ||
		!strings.Contains(r.Detail, "Cloud-init v. 22.4.2 finished") {
		t.Errorf("detail %q lacks the exit code and log tail", r.Detail)
	}
	if len(r.Samples) != 0 {
		t.Errorf("a failed install must not be measured, got %d samples", len(r.Samples))
	}
	if !strings.Contains(console, "phase=done status=failed") {
		t.Errorf("console lacks the final verdict:\n%s", console)
	}
}

// A failed hook's log tail leaves the guest in the result's detail: what
// kubeadm printed there (a join command with its token and certificate
// key, the key alone on a line), a bearer token and the run's MySQL
// password are redacted first; the rest of the tail stays readable.
func TestAgentRedactsSecretsInTheLogTail(t *testing.T) {
	secrets := []string{"abcdef.0123456789abcdef", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"eyJhbGciOiJSUzI1NiJ9.payload", "Zq9-run_pw", "hunter2", "s3cr3t"}
	install := strings.Join([]string{
		"echo 'Your Kubernetes control-plane has initialized successfully!'",
		"echo '  kubeadm join 10.77.0.10:6443 --token abcdef.0123456789abcdef \\'",
		"echo '        --discovery-token-ca-cert-hash sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef \\'",
		"echo '        --control-plane --certificate-key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'",
		"echo '[upload-certs] Using certificate key:'",
		"echo '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'",
		`echo 'curl -H "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload" https://127.0.0.1:6443/readyz'`,
		`echo "MYSQL_PWD=hunter2 mysql -uroot -e 'select 1' (run password $MYSQL_PASSWORD)"`,
		"echo 'password: s3cr3t' >&2",
		"exit 1",
	}, "\n")
	p := profiles.Profile{Name: "kube", Hooks: map[string]string{"install": install}}
	r, _ := newAgentRun(t, p, "MYSQL_PASSWORD=Zq9-run_pw\n").run(t)
	if r.Status != results.StatusFailed {
		t.Fatalf("status %s, want failed", r.Status)
	}
	for _, s := range secrets {
		if strings.Contains(r.Detail, s) {
			t.Errorf("detail keeps %q:\n%s", s, r.Detail)
		}
	}
	for _, kept := range []string{"hook install exited 1", "kubeadm join 10.77.0.10:6443 --token <redacted>", "--discovery-token-ca-cert-hash sha256:1234567890abcdef",
		"--certificate-key <redacted>", "Bearer <redacted>", "MYSQL_PWD=<redacted>", "run password <redacted>", "password: <redacted>", "Cloud-init v. 22.4.2 finished"} {
		if !strings.Contains(r.Detail, kept) {
			t.Errorf("detail lacks %q:\n%s", kept, r.Detail)
		}
	}
}

func TestAgentHookTimeout(t *testing.T) {
	p := profiles.Profile{Name: "slow", Hooks: map[string]string{"install": "true", "ready": "sleep 30"}}
	r, _ := newAgentRun(t, p, "READY_TIMEOUT=1\n").run(t)
	if got, want := r.PhaseList(), "boot=ok install=ok ready=timeout"; got != want {
		t.Errorf("phases %q, want %q", got, want)
	}
	if r.Status != results.StatusFailed || !strings.Contains(r.Detail, "not ready within 1s") {
		t.Errorf("status %s detail %q", r.Status, r.Detail)
	}
}

func TestAgentRestartServesWhatItMeasured(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := newAgentRun(t, p, "")
	first, _ := a.run(t)
	// A second start must not measure a machine that has run for longer.
	if err := os.WriteFile(filepath.Join(a.dir, "proc/uptime"), []byte("999.00 1.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, console := a.run(t)
	if len(second.Samples) != len(first.Samples) || second.Samples[0].UptimeSeconds != 42.5 {
		t.Errorf("restart re-measured: %+v", second.Samples)
	}
	if !strings.Contains(console, "uptime=restart") {
		t.Errorf("console %q", console)
	}
}

func TestAgentScriptsPassShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck is not installed: run `make tools`")
	}
	dir := t.TempDir()
	files := map[string]string{"agent.sh": AgentScript()}
	for _, name := range profiles.Names() {
		p, _ := profiles.Get(name)
		files["profile-"+name+".sh"] = "#!/bin/sh\n" + ProfileScript(p)
		files["env-"+name+".sh"] = "#!/bin/sh\n" + AgentEnv(Node{Name: name, Profile: p})
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("shellcheck", "-s", "sh", path).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, out)
		}
		// What the guest gets, without comments, is still the same shell.
		shipped := path + ".shipped"
		if err := os.WriteFile(shipped, []byte(Shipped(content)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("sh", "-n", shipped).CombinedOutput(); err != nil {
			t.Errorf("sh -n on the shipped %s: %v\n%s", name, err, out)
		}
	}
}

// offlineProfile installs from ARTIFACTS only and reports what it learned
// through FACTS, as the kubeadm profile does.
func offlineProfile() profiles.Profile {
	return profiles.Profile{Name: "offline", Hooks: map[string]string{
		"install":        "echo online install ran; exit 9",
		"installOffline": "set -e\ncat \"$ARTIFACTS/payload\"\necho 'preflightWarnings=NumCPU,Mem' >>\"$FACTS\"\necho 'note=said \"twice\"\\ttab' >>\"$FACTS\"\necho 'note=kept last' >>\"$FACTS\"\necho 'bad key=dropped' >>\"$FACTS\"",
	}}
}

func TestAgentInstallsOfflineFromTheArtifactsDiskAndRecordsFacts(t *testing.T) {
	a := newAgentRun(t, offlineProfile(), "ARTIFACTS_LABEL=FPARTIFACTS\n")
	arts := filepath.Join(a.dir, "artifacts")
	if err := os.MkdirAll(arts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(arts, "payload"), []byte("from the disk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// mount is answered by a stub that logs its arguments; mountpoint says no.
	mountLog := filepath.Join(a.dir, "mount.log")
	for name, body := range map[string]string{
		"mount":      "#!/bin/sh\necho \"$*\" >>" + mountLog + "\n",
		"mountpoint": "#!/bin/sh\nexit 1\n",
	} {
		if err := os.WriteFile(filepath.Join(a.dir, "bin", name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a.env = append(a.env, "FOOTPRINT_ARTIFACTS="+arts)
	r, console := a.run(t)
	if got, want := r.PhaseList(), "boot=ok install=ok ready=skipped settle=ok idle=ok"; got != want || r.Status != results.StatusOK {
		t.Fatalf("status %s phases %q, want %q (detail %s)", r.Status, got, want, r.Detail)
	}
	if m := readFile(t, mountLog); !strings.Contains(m, "-r -t iso9660 LABEL=FPARTIFACTS "+arts) {
		t.Errorf("mount called as %q", m)
	}
	if log := readFile(t, filepath.Join(a.dir, "state/hooks.log")); !strings.Contains(log, "from the disk") || strings.Contains(log, "online install ran") {
		t.Errorf("hook log %q: want the offline install only", log)
	}
	want := map[string]string{"install": "offline", "preflightWarnings": "NumCPU,Mem", "note": "kept last"}
	if len(r.Facts) != len(want) {
		t.Errorf("facts %v, want %v", r.Facts, want)
	}
	// A result rebuilt from the serial console keeps the same facts.
	log := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(log, []byte(console), 0o644); err != nil {
		t.Fatal(err)
	}
	rebuilt, ok := results.FromConsole(log, r.Node)
	for k, v := range want {
		if r.Facts[k] != v {
			t.Errorf("fact %s = %q, want %q (all: %v)", k, r.Facts[k], v, r.Facts)
		}
		if !ok || rebuilt.Facts[k] != v {
			t.Errorf("console fact %s = %q, want %q (all: %v)", k, rebuilt.Facts[k], v, rebuilt.Facts)
		}
	}
}

func TestAgentFailsCleanlyWithoutTheArtifactsDisk(t *testing.T) {
	a := newAgentRun(t, offlineProfile(), "ARTIFACTS_LABEL=FPARTIFACTS\n")
	for name, body := range map[string]string{"mount": "#!/bin/sh\nexit 32\n", "mountpoint": "#!/bin/sh\nexit 1\n", "sleep": "#!/bin/sh\n"} {
		if err := os.WriteFile(filepath.Join(a.dir, "bin", name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a.env = append(a.env, "FOOTPRINT_ARTIFACTS="+filepath.Join(a.dir, "artifacts"))
	r, _ := a.run(t)
	if r.Status != results.StatusFailed || r.PhaseList() != "boot=ok install=failed" || !strings.Contains(r.Detail, "no disk labelled FPARTIFACTS") {
		t.Errorf("status %s phases %q detail %q", r.Status, r.PhaseList(), r.Detail)
	}
}

// The timeline spans the whole run in bounded memory: at most
// TIMELINE_POINTS points, the step doubled each time it halves them.
func TestAgentTimelineIsBoundedAndWrittenOnce(t *testing.T) {
	p, _ := profiles.Get("bare")
	for _, tc := range []struct {
		env          string
		maxPoints    int
		minIntervalS int
	}{
		{"TIMELINE_INTERVAL=1\n", 512, 1},
		{"TIMELINE_INTERVAL=1\nTIMELINE_POINTS=2\nSETTLE=4\n", 2, 2},
	} {
		a := newAgentRun(t, p, tc.env)
		r, _ := a.run(t)
		tl := r.Timeline
		if tl == nil || len(tl.Points) == 0 || len(tl.Points) > tc.maxPoints || tl.IntervalSeconds < tc.minIntervalS {
			t.Fatalf("%q: timeline %+v", tc.env, tl)
		}
		for _, pt := range tl.Points {
			if pt[0] != 42.5 || pt[1] != 996452-832612 || pt[2] != 832612 {
				t.Errorf("%q: point %v, want [42.5 used available] of the fixture", tc.env, pt)
			}
		}
		if _, err := os.Stat(filepath.Join(a.dir, "state/timeline")); err != nil {
			t.Errorf("%q: the loop's file: %v", tc.env, err)
		}
	}
	// Off when asked.
	r, _ := newAgentRun(t, p, "TIMELINE_INTERVAL=0\n").run(t)
	if r.Timeline != nil {
		t.Errorf("timeline with TIMELINE_INTERVAL=0: %+v", r.Timeline)
	}
}

// The settle rule: memory that holds still settles after one window; memory
// that keeps moving by more than the tolerance is "unsettled" at the cap,
// and the samples are taken all the same. The rule is in the settings.
func TestAgentSettleRule(t *testing.T) {
	p, _ := profiles.Get("bare")
	rule := "SETTLE_TOLERANCE_KIB=3072\nSETTLE_WINDOW=2\nSETTLE_MAX=4\n"

	a := newAgentRun(t, p, rule)
	r, _ := a.run(t)
	if got := r.PhaseList(); got != "boot=ok install=skipped ready=skipped settle=ok idle=ok" {
		t.Errorf("still memory: phases %s", got)
	}
	if sr := r.Settings.SettleRule; sr == nil || sr.ToleranceKiB != 3072 || sr.WindowSeconds != 2 || sr.MaxSeconds != 4 {
		t.Errorf("settings %+v", r.Settings)
	}

	// The fixture's MemAvailable falls by 8 MiB every 0.3 s: any two of the
	// rule's readings, a second apart, differ by more than the tolerance,
	// however the two loops' timings align on a busy machine (a value that
	// went back and forth could read the same three times).
	a = newAgentRun(t, p, rule)
	meminfo := filepath.Join(a.dir, "proc/meminfo")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			avail := 832612 - int64(i%64)*8192
			text := strings.Replace(fixtureMeminfo, "MemAvailable:     832612 kB", fmt.Sprintf("MemAvailable:     %d kB", avail), 1)
			tmp := meminfo + ".tmp"
			if os.WriteFile(tmp, []byte(text), 0o644) == nil {
				os.Rename(tmp, meminfo)
			}
		}
	}()
	r, _ = a.run(t)
	close(stop)
	<-done
	if got := r.PhaseList(); got != "boot=ok install=skipped ready=skipped settle="+string(results.StatusUnsettled)+" idle=ok" {
		t.Errorf("moving memory: phases %s", got)
	}
	if len(r.Samples) != 3 {
		t.Errorf("%d samples after an unsettled phase, want 3", len(r.Samples))
	}
}

// Each sample counts the free pages on the per-CPU lists of every zone.
func TestAgentCountsThePerCPUFreeLists(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := newAgentRun(t, p, "")
	zoneinfo := `Node 0, zone      DMA
  pages free     3808
  pagesets
    cpu: 0
              count: 0
              high:  221
              batch: 1
Node 0, zone    DMA32
  pages free     206718
        managed  245311
  pagesets
    cpu: 0
              count: 11521
              high:  13857
              batch: 63
  vm stats threshold: 24
`
	if err := os.WriteFile(filepath.Join(a.dir, "proc/zoneinfo"), []byte(zoneinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := a.run(t)
	for _, s := range r.Samples {
		if s.PCPFreeKiB == nil || *s.PCPFreeKiB != 11521*4 {
			t.Errorf("sample %+v: pcpFreeKiB, want %d", s, 11521*4)
		}
	}
	if s, ok := r.Summarize("idle"); !ok || !s.HasPCP || s.NetUsedMiB != results.MiB(996452-832612-11521*4) {
		t.Errorf("summary %+v", s)
	}
	// Without a readable zoneinfo (the other tests' fixture) the field is absent.
	r, _ = newAgentRun(t, p, "").run(t)
	if r.Samples[0].PCPFreeKiB != nil {
		t.Errorf("pcpFreeKiB without a zoneinfo: %d", *r.Samples[0].PCPFreeKiB)
	}
}

// On a preinstalled system the configure hook applies a variant's options
// after install=preinstalled; the profile's defaults ship no configure hook,
// so nothing runs and the phases are as before.
func TestAgentConfiguresAPreinstalledVariant(t *testing.T) {
	base := profiles.Profile{Name: "sys", Hooks: map[string]string{"install": "exit 9", "configure": `echo "$SYS_FLAG" >"$RUN_DIR/configured"`},
		Options: map[string]profiles.Option{"flag": {Description: "d", Source: "s", Env: map[string]string{"SYS_FLAG": "on"}}}}
	variant, err := base.With([]string{"flag"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p          profiles.Profile
		phases     string
		configured string
	}{
		{base, "boot=ok install=preinstalled ready=skipped settle=ok idle=ok", ""},
		{variant, "boot=ok install=preinstalled configure=ok ready=skipped settle=ok idle=ok", "on\n"},
	} {
		a := newAgentRun(t, c.p, "PREINSTALLED=1\n")
		r, _ := a.run(t)
		if got := r.PhaseList(); got != c.phases || r.Status != results.StatusOK {
			t.Errorf("%v: status %s phases %q, want %q", c.p.Chosen, r.Status, got, c.phases)
		}
		got, _ := os.ReadFile(filepath.Join(a.dir, "run", "configured"))
		if string(got) != c.configured {
			t.Errorf("%v: configure wrote %q, want %q", c.p.Chosen, got, c.configured)
		}
	}
}

// useSystemd makes the agent believe systemd runs the machine, with stubs
// for systemd-run (which logs its arguments and runs the command the way
// the unit would: with an empty environment) and systemctl (which logs).
func (a *agentRun) useSystemd(t *testing.T) (runLog, ctlLog string) {
	t.Helper()
	runLog, ctlLog = filepath.Join(a.dir, "systemd-run.log"), filepath.Join(a.dir, "systemctl.log")
	if err := os.MkdirAll(filepath.Join(a.dir, "systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"systemd-run": "#!/bin/sh\necho \"$*\" >>" + runLog + "\n" +
			"while [ $# -gt 0 ]; do case $1 in -p) shift 2 ;; -*) shift ;; *) break ;; esac; done\n" +
			"exec env -i \"$@\"\n",
		"systemctl": "#!/bin/sh\necho \"$*\" >>" + ctlLog + "\n",
	} {
		if err := os.WriteFile(filepath.Join(a.dir, "bin", name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a.env = append(a.env, "FOOTPRINT_RUN_SYSTEMD="+filepath.Join(a.dir, "systemd"))
	return runLog, ctlLog
}

// Under systemd every hook call_hook runs (install, configure, workload,
// the ready checks) is a transient service of its own, so that what it
// leaves in the page cache is not charged to the agent's cgroup. The hook
// gets the same variables as in the agent's process tree (from a root-only
// file: the unit inherits nothing), its output still goes to the hook log,
// its exit status is the phase's, and version and api stay in the agent.
func TestAgentRunsHooksInUnitsOfTheirOwn(t *testing.T) {
	dump := `for v in VERSION RUN_DIR FACTS ARTIFACTS MYSQL_PASSWORD MYSQL_IMAGE API_TIMEOUT SYS_FLAG; do eval "echo $v=\${$v-unset}"; done >"$RUN_DIR/env.$1"; echo hook $1 ran`
	base := profiles.Profile{Name: "sys", Hooks: map[string]string{
		"install": "dump install", "configure": "dump configure", "ready": "dump ready",
		"workload": "dump workload", "workloadReady": "true", "version": "echo sys 1.0", "api": "echo 200 0.01"},
		Functions: "dump() {\n" + dump + "\n}\n",
		Options:   map[string]profiles.Option{"flag": {Description: "d", Source: "s", Env: map[string]string{"SYS_FLAG": "on it's"}}}}
	variant, err := base.With([]string{"flag"})
	if err != nil {
		t.Fatal(err)
	}
	a := newAgentRun(t, variant, "INSTALL_TIMEOUT=60\nREADY_TIMEOUT=60\nWORKLOAD_TIMEOUT=60\nAPI_ATTEMPTS=1\nAPI_TIMEOUT=10\n"+
		"VERSION='v1.2 \"x\"'\nMYSQL_PASSWORD='pw'\\''s'\n")
	runLog, ctlLog := a.useSystemd(t)
	r, _ := a.run(t)
	if got, want := r.PhaseList(), "boot=ok install=ok ready=ok settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok"; got != want || r.Status != results.StatusOK {
		t.Fatalf("status %s phases %q, want %q (detail %s)", r.Status, got, want, r.Detail)
	}
	if r.SystemVersion != "sys 1.0" || r.API == nil || r.API.Verdict != results.APIResponsive {
		t.Errorf("version %q api %+v: the hooks whose output is their answer run in the agent", r.SystemVersion, r.API)
	}
	calls := strings.Split(strings.TrimSpace(readFile(t, runLog)), "\n")
	if len(calls) != 4 {
		t.Fatalf("systemd-run called %d times, want install, ready, workload, workloadReady and nothing else:\n%s", len(calls), strings.Join(calls, "\n"))
	}
	for i, hook := range []string{"install", "ready", "workload", "workloadReady"} {
		want := fmt.Sprintf("--unit=footprint-hook-%s-%d.service --description=footprint hook %s --wait --pipe --collect --quiet --service-type=exec -p RuntimeMaxSec=", hook, i+1, hook)
		if !strings.HasPrefix(calls[i], want) || !strings.Contains(calls[i], "-p TimeoutStopSec=15 -p BindsTo=footprint-agent.service -p After=footprint-agent.service /bin/sh -c") {
			t.Errorf("call %d: %q, want it to start %q and bind the hook to the agent", i+1, calls[i], want)
		}
	}
	// (configure, which runs on a preinstalled system only, goes through
	// call_hook too: TestAgentConfiguresAPreinstalledVariant.)
	for _, hook := range []string{"install", "ready", "workload"} {
		got := readFile(t, filepath.Join(a.dir, "run", "env."+hook))
		for _, want := range []string{"VERSION=v1.2 \"x\"", "RUN_DIR=" + filepath.Join(a.dir, "run"), "FACTS=" + filepath.Join(a.dir, "run", "facts"),
			"ARTIFACTS=/run/footprint-artifacts", "MYSQL_PASSWORD=pw's", "MYSQL_IMAGE=mysql:8.4", "API_TIMEOUT=10", "SYS_FLAG=on it's"} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("%s hook saw\n%s\nwant %q", hook, got, want)
			}
		}
	}
	if log := readFile(t, filepath.Join(a.dir, "state/hooks.log")); !strings.Contains(log, "hook install ran") || !strings.Contains(log, "hook workload ran") {
		t.Errorf("hook log %q", log)
	}
	if st, err := os.Stat(filepath.Join(a.dir, "run", "hook.env")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("hook.env: %v %v, want a root-only file", st, err)
	}
	if _, err := os.Stat(ctlLog); err == nil {
		t.Errorf("systemctl called without a timeout: %s", readFile(t, ctlLog))
	}
}

// Under systemd a hook's exit status is still the phase's, and a hook that
// runs out of time is a timeout whose unit is stopped, so that nothing it
// started keeps running.
func TestAgentHookUnitFailureAndTimeout(t *testing.T) {
	p := profiles.Profile{Name: "broken", Hooks: map[string]string{"install": "echo 'curl: (6) Could not resolve host' >&2\nexit 7"}}
	a := newAgentRun(t, p, "")
	a.useSystemd(t)
	r, _ := a.run(t)
	if r.Status != results.StatusFailed || r.PhaseList() != "boot=ok install=failed" ||
		!strings.Contains(r.Detail, "hook install exited 7") || !strings.Contains(r.Detail, "Could not resolve host") {
		t.Errorf("status %s phases %q detail %q", r.Status, r.PhaseList(), r.Detail)
	}

	p = profiles.Profile{Name: "slow", Hooks: map[string]string{"install": "sleep 30"}}
	a = newAgentRun(t, p, "INSTALL_TIMEOUT=1\n")
	_, ctlLog := a.useSystemd(t)
	start := time.Now()
	r, _ = a.run(t)
	if got := r.PhaseList(); got != "boot=ok install=timeout" || r.Status != results.StatusFailed || !strings.Contains(r.Detail, "hook install exited 124") {
		t.Errorf("status %s phases %q detail %q", r.Status, got, r.Detail)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the agent waited %v for a hook given 1 s", time.Since(start))
	}
	if got := readFile(t, ctlLog); got != "stop footprint-hook-install-1.service\n" {
		t.Errorf("systemctl called as %q, want the hook's unit stopped", got)
	}
}

// Each breakdown records the instrument's own cost: its cgroup's
// memory.current and memory.stat's anon and file, and the PSS of the
// processes cgroup.procs lists, summed (a process whose smaps_rollup cannot
// be read counts as a process, not in the PSS). The agent's cgroup is its
// own (/proc/self/cgroup), footprint-agent.service when that cannot be read.
func TestAgentReportsItsOwnFootprint(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := newAgentRun(t, p, "")
	agent := filepath.Join(a.dir, "cgroup/system.slice/footprint-agent.service")
	for rel, content := range map[string]string{
		agent + "/memory.current":            "3145728\n",
		agent + "/memory.stat":               "anon 1048576\nfile 2097152\nkernel 0\nactive_anon 1048576\n",
		agent + "/cgroup.procs":              "7001\n7002\n7003\n",
		"proc/7001/smaps_rollup":             "55d0c1a2e000-7ffd8a5f1000 ---p 00000000 00:00 0  [rollup]\nRss:                1800 kB\nPss:                 700 kB\nPss_Anon:            300 kB\n",
		"proc/7002/smaps_rollup":             "Rss:                1500 kB\nPss:                 450 kB\n",
		"proc/7003/status":                   "Name:\tsleep\n",
		"cgroup/system.slice/memory.current": "5242880\n",
	} {
		path := rel
		if !filepath.IsAbs(path) {
			path = filepath.Join(a.dir, rel)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := a.run(t)
	br, ok := r.BreakdownOf("idle")
	if !ok || br.Agent == nil {
		t.Fatalf("no agent footprint in %+v", r.Breakdowns)
	}
	ag := br.Agent
	if ag.Cgroup != "system.slice/footprint-agent.service" || ag.Processes != 3 ||
		ag.CgroupKiB == nil || *ag.CgroupKiB != 3072 || ag.AnonKiB == nil || *ag.AnonKiB != 1024 ||
		ag.FileKiB == nil || *ag.FileKiB != 2048 || ag.PSSKiB == nil || *ag.PSSKiB != 1150 {
		t.Errorf("agent %+v", *ag)
	}
	// Without its cgroup's files every figure is null, never a guess.
	r, _ = newAgentRun(t, p, "").run(t)
	if br, _ := r.BreakdownOf("idle"); br.Agent == nil || br.Agent.CgroupKiB != nil || br.Agent.PSSKiB != nil || br.Agent.Processes != 0 {
		t.Errorf("agent without a cgroup: %+v", br.Agent)
	}
}

// Each timeline reading carries the kernel's memory pressure where
// /proc/pressure/memory exists: some and full, avg10 and total.
func TestAgentTimelineRecordsMemoryPressure(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := newAgentRun(t, p, "TIMELINE_INTERVAL=1\n")
	psi := "some avg10=1.52 avg60=0.40 avg300=0.09 total=4211843\nfull avg10=0.25 avg60=0.07 avg300=0.01 total=1350020\n"
	if err := os.MkdirAll(filepath.Join(a.dir, "proc/pressure"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "proc/pressure/memory"), []byte(psi), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := a.run(t)
	tl := r.Timeline
	if tl == nil || len(tl.Pressure) == 0 || len(tl.Pressure) != len(tl.Points) {
		t.Fatalf("timeline %+v: want a pressure reading with every point", tl)
	}
	for i, pr := range tl.Pressure {
		if pr != [5]float64{42.5, 1.52, 4211843, 0.25, 1350020} || tl.Points[i] != [3]float64{42.5, 996452 - 832612, 832612} {
			t.Errorf("reading %d: point %v pressure %v", i, tl.Points[i], pr)
		}
	}
	// A kernel without PSI, or one that says something else: no pressure,
	// the points as before.
	for _, content := range []string{"", "some avg10=1.52 avg60=0.40 avg300=0.09 total=4211843\n"} {
		a := newAgentRun(t, p, "TIMELINE_INTERVAL=1\n")
		if content != "" {
			os.MkdirAll(filepath.Join(a.dir, "proc/pressure"), 0o755)
			os.WriteFile(filepath.Join(a.dir, "proc/pressure/memory"), []byte(content), 0o644)
		}
		r, _ := a.run(t)
		if r.Timeline == nil || len(r.Timeline.Points) == 0 || r.Timeline.Pressure != nil {
			t.Errorf("pressure file %q: timeline %+v", content, r.Timeline)
		}
	}
}

// The API over time: from the workload's start through its samples, the
// api hook every API_SERIES_INTERVAL seconds, in the background until the
// samples, then right after each sample (never while one is read); the
// final probe and its verdict stay as they were. The fixture's uptime moves
// 10 s with every probe, so every sample is followed by one.
func TestAgentProbesTheAPIThroughTheWorkload(t *testing.T) {
	api := `n=$(cat "$RUN_DIR/probes" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$RUN_DIR/probes"
read -r up _ <"$FOOTPRINT_PROC/uptime"; echo "$(( ${up%.*} + 10 )).25 1.00" >"$FOOTPRINT_PROC/uptime.tmp"; mv "$FOOTPRINT_PROC/uptime.tmp" "$FOOTPRINT_PROC/uptime"
if [ "$n" = 2 ]; then echo "000 10.0"; else echo "200 0.0$n"; fi`
	p := profiles.Profile{Name: "sys", Hooks: map[string]string{"workload": "sleep 3", "workloadReady": "true", "api": api}}
	a := newAgentRun(t, p, "WORKLOAD_TIMEOUT=60\nAPI_ATTEMPTS=2\nAPI_SERIES_INTERVAL=1\n")
	r, _ := a.run(t)
	if got, want := r.PhaseList(), "boot=ok install=skipped ready=skipped settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok"; got != want {
		t.Fatalf("phases %q, want %q (detail %s)", got, want, r.Detail)
	}
	s := r.APISeries
	if s == nil || s.IntervalSeconds != 1 {
		t.Fatalf("series %+v", s)
	}
	var samples []float64
	for _, sm := range r.Samples {
		if sm.Phase == "workload" {
			samples = append(samples, sm.UptimeSeconds)
		}
	}
	if len(samples) != 3 || len(s.Points) < 2+len(samples) {
		t.Fatalf("%d workload samples, %d probes: want 3 samples, and a probe after each besides those in the workload", len(samples), len(s.Points))
	}
	for i, pt := range s.Points {
		if i > 0 && pt.UptimeSeconds <= s.Points[i-1].UptimeSeconds {
			t.Errorf("probe %d at %v, not after the one before", i, pt.UptimeSeconds)
		}
		if pt.Seconds == nil || (i == 1) != (pt.HTTPCode == 0) || (i == 1) == pt.OK() {
			t.Errorf("probe %d: %+v", i, pt)
		}
	}
	// Every sample is followed at once by a probe at the same uptime, the
	// last three probes.
	tail := s.Points[len(s.Points)-3:]
	for i, up := range samples {
		if tail[i].UptimeSeconds != up {
			t.Errorf("sample at %v, probe after it at %v", up, tail[i].UptimeSeconds)
		}
	}
	// The final probe: its own two attempts, after the series.
	if r.API == nil || len(r.API.Attempts) != 2 || r.API.Verdict != results.APIResponsive {
		t.Errorf("api %+v", r.API)
	}
	if n := strings.TrimSpace(readFile(t, filepath.Join(a.dir, "run/probes"))); n != fmt.Sprint(len(s.Points)+2) {
		t.Errorf("the api hook ran %s times, want the %d of the series and the 2 of the final probe", n, len(s.Points))
	}

	// Off at 0, and without a workload there is no series.
	for _, c := range []struct {
		p   profiles.Profile
		env string
	}{{p, "WORKLOAD_TIMEOUT=60\nAPI_ATTEMPTS=1\nAPI_SERIES_INTERVAL=0\n"}, {profiles.Profile{Name: "idle", Hooks: map[string]string{"api": api}}, "API_SERIES_INTERVAL=1\n"}} {
		r, _ := newAgentRun(t, c.p, c.env).run(t)
		if r.APISeries != nil {
			t.Errorf("%s %q: series %+v", c.p.Name, c.env, r.APISeries)
		}
	}
}

// The OOM kills of the kernel log are in the result with their time and
// process, beside each breakdown's count.
func TestAgentRecordsWhenOOMKillsHappened(t *testing.T) {
	p, _ := profiles.Get("bare")
	a := newAgentRun(t, p, "")
	dmesg := `[    0.061000] percpu: Embedded 61 pages/cpu s212992 r8192 d28672 u262144
[  345.600001] mysqld invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
[  345.712345] Out of memory: Killed process 4321 (mysqld) total-vm:1862924kB, anon-rss:366440kB, file-rss:0kB, shmem-rss:0kB, UID:999 pgtables:1104kB oom_score_adj:0
[  400.100000] Memory cgroup out of memory: Killed process 999 (kube "api") total-vm:10kB, anon-rss:5kB
`
	if err := os.WriteFile(filepath.Join(a.dir, "dmesg.txt"), []byte(dmesg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "bin/dmesg"), []byte("#!/bin/sh\ncat "+filepath.Join(a.dir, "dmesg.txt")+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, _ := a.run(t)
	want := []results.OOMKill{{UptimeSeconds: 345.712345, Process: "mysqld"}, {UptimeSeconds: 400.1, Process: `kube "api"`}}
	if fmt.Sprint(r.OOMKillEvents) != fmt.Sprint(want) {
		t.Errorf("OOM kills %+v, want %+v", r.OOMKillEvents, want)
	}
	if br, _ := r.BreakdownOf("idle"); br.OOMKills != 2 {
		t.Errorf("breakdown counts %d OOM kills, want 2", br.OOMKills)
	}
}

// With SOAK set, the agent soaks after its last measured phase: phase soak,
// a reading of used and of the per-CPU free lists every SOAK_INTERVAL
// seconds for SOAK seconds, bounded to SOAK_POINTS points by halving.
func TestAgentSoaksAfterItsLastMeasuredPhase(t *testing.T) {
	p, _ := profiles.Get("bare")
	zoneinfo := "Node 0, zone    DMA32\n  pagesets\n    cpu: 0\n              count: 100\n"
	for _, tc := range []struct {
		env        string
		points     int
		intervalS  int
		withPCP    bool
		durationS  int
		phasesWant string
	}{
		{"SOAK=3\nSOAK_INTERVAL=1\n", 4, 1, true, 3, "boot=ok install=skipped ready=skipped settle=ok idle=ok soak=ok"},
		// 0, 1, 2 (full: 0, 2; every 2 s), 4 (full: 0, 4; every 4 s)
		{"SOAK=4\nSOAK_INTERVAL=1\nSOAK_POINTS=3\n", 2, 4, false, 4, "boot=ok install=skipped ready=skipped settle=ok idle=ok soak=ok"},
	} {
		a := newAgentRun(t, p, tc.env)
		if tc.withPCP {
			if err := os.WriteFile(filepath.Join(a.dir, "proc/zoneinfo"), []byte(zoneinfo), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, out := a.run(t)
		if got := r.PhaseList(); got != tc.phasesWant || r.Status != results.StatusOK {
			t.Fatalf("%q: status %s phases %q, want %q", tc.env, r.Status, got, tc.phasesWant)
		}
		s := r.Soak
		if s == nil || len(s.Points) != tc.points || s.IntervalSeconds != tc.intervalS || s.DurationSeconds != tc.durationS {
			t.Fatalf("%q: soak %+v", tc.env, s)
		}
		for _, pt := range s.Points {
			want := []float64{42.5, 996452 - 832612}
			if tc.withPCP {
				want = append(want, 400)
			}
			if !slices.Equal(pt, want) {
				t.Errorf("%q: point %v, want %v", tc.env, pt, want)
			}
		}
		if r.SoakGrowth != nil {
			t.Errorf("%q: readings at one uptime fitted: %+v", tc.env, r.SoakGrowth)
		}
		if !strings.Contains(out, "phase=soak status=started") || !strings.Contains(out, "phase=soak status=ok") {
			t.Errorf("%q: the console lacks the soak:\n%s", tc.env, out)
		}
	}
	// Off (the other tests): no soak phase, no soak.
	r, _ := newAgentRun(t, p, "SOAK=0\n").run(t)
	if r.Soak != nil || strings.Contains(r.PhaseList(), "soak") {
		t.Errorf("SOAK=0: phases %s soak %+v", r.PhaseList(), r.Soak)
	}
}

// With a workload, the soak follows the API probe.
func TestAgentSoaksAfterTheWorkload(t *testing.T) {
	p := profiles.Profile{Name: "sys", Hooks: map[string]string{"workload": "true", "workloadReady": "true", "api": `echo "200 0.01"`}}
	r, _ := newAgentRun(t, p, "WORKLOAD_TIMEOUT=60\nAPI_ATTEMPTS=1\nAPI_SERIES_INTERVAL=0\nSOAK=1\nSOAK_INTERVAL=1\n").run(t)
	if got, want := r.PhaseList(), "boot=ok install=skipped ready=skipped settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok soak=ok"; got != want {
		t.Errorf("phases %q, want %q (detail %s)", got, want, r.Detail)
	}
	if r.Soak == nil || len(r.Soak.Points) != 2 {
		t.Errorf("soak %+v", r.Soak)
	}
}
