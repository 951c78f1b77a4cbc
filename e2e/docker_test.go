//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/search"
)

// dockerStack: Docker with MySQL (the MariaDB stand-in) and docker-lean,
// Docker with both options it declares, each searched for its smallest
// machine over 128 and 384 MiB: a host that takes four guests tries both
// sizes of both systems in one wave. At 128 MiB the guest's kernel panics
// unpacking its initramfs (a failure the collector records at once); at
// 384 MiB both work (on 2026-12-07 Docker used 94 MiB idle and 174 with
// MySQL there, MySQL ready in 12 s), so the search finds 384 with the
// failure one step below, and the two systems are measured side by side.
// installTimeout bounds docker-lean's configure hook (both daemons restart).
func dockerStack() string {
	stack := stackYAML(`  footprint:profiles: [docker, docker-lean]
  footprint:variants:
    docker-lean: {profile: docker, options: [noUserlandProxy, goMemLimit]}
  footprint:preinstalled: [docker]
  footprint:installTimeout: 3m
  footprint:workloadImage: footprint/standin-mysql:1
  footprint:readyTimeout: 5m
  footprint:workloadTimeout: 6m
  footprint:apiAttempts: 5
  footprint:collectDeadline: 25m
  footprint:search: {minMiB: 128, maxMiB: 384, resolutionMiB: 256}
`)
	stack = strings.Replace(stack, "  footprint:memoryMiB: 1024\n", "", 1) // the search chooses the sizes
	return strings.Replace(stack, "    domainType: qemu\n", "    domainType: qemu\n    maxGuests: 4\n", 1)
}

// Docker for real on the test image's docker variant (Docker from Debian
// preinstalled, a MariaDB image built from Debian packages standing in for
// MySQL), with a variant of it, in one run that also searches both for
// their smallest machine (issue 25): the workload path, the breakdown and
// the API probe run in real guests; the variant's options are applied to
// the preinstalled daemons and the report sets it against Docker's
// defaults; the search records every size tried. Then every file and
// output of the run is searched for the run's secrets.
func TestDockerAndAVariantSearchedForTheirSmallestMachine(t *testing.T) {
	h := newHost(t)
	dir := dockerProject(t, "docker", dockerStack())
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")

	out, code := h.exec(dir, nil, footprint(t), "plan", "--stack", "docker")
	if code != 0 || !strings.Contains(out, "at most 1 step(s) in 1 wave(s) in all") ||
		!strings.Contains(out, "step 1, wave 1 on qemu:///system: 4 guest(s)") {
		t.Fatalf("plan: exit %d, want one wave of four guests:\n%s", code, out)
	}
	start := time.Now()
	out, code = h.exec(dir, nil, footprint(t), "run", "--stack", "docker", "--ssh-key", keyFile)
	t.Logf("footprint run took %s, exit %d", elapsed(start), code)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	runDir, run := onlyRun(t, dir)
	keepRun(t, runDir)
	byNode := nodesByName(run)
	if len(byNode) != 4 {
		t.Fatalf("nodes %v, want each system at 128 and 384 MiB", keys(byNode))
	}
	checkDocker(t, byNode["docker-384m"], "")
	checkDocker(t, byNode["docker-lean-384m"], "configure=ok ")
	checkLean(t, byNode["docker-lean-384m"])
	for _, n := range []string{"docker-128m", "docker-lean-128m"} {
		if r := byNode[n]; r.Status != results.StatusFailed || !strings.Contains(r.Detail, "Kernel panic - not syncing") {
			t.Errorf("%s: status %s detail %q, want failed on the kernel's panic", n, r.Status, r.Detail)
		}
	}
	checkSearched(t, runDir, run)
	checkPair(t, runDir)
	checkWorkloadNamed(t, runDir, run)
	scanForSecrets(t, h, dir, runDir, out, keyFile)
	noLeftovers(t, h, "footprint-docker")
}

// checkDocker: Docker with MySQL measured in full at 384 MiB.
func checkDocker(t *testing.T, r results.Result, configured string) {
	t.Helper()
	checkAccounting(t, r)
	checkInstrument(t, r)
	want := "boot=ok install=preinstalled " + configured + "ready=ok settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok"
	if got := r.PhaseList(); got != want || r.Status != results.StatusOK {
		t.Fatalf("%s: status %s, phases\n got %s\nwant %s\ndetail %s", r.Node, r.Status, got, want, r.Detail)
	}
	idle, ok1 := r.Summarize("idle")
	work, ok2 := r.Summarize("workload")
	if !ok1 || !ok2 {
		t.Fatalf("%s: missing idle or workload samples", r.Node)
	}
	if work.UsedMiB <= idle.UsedMiB+20 {
		t.Errorf("%s: used with the database %.0f MiB is not clearly above idle %.0f MiB", r.Node, work.UsedMiB, idle.UsedMiB)
	}
	if !strings.HasPrefix(r.SystemVersion, "docker ") {
		t.Errorf("%s: system version %q", r.Node, r.SystemVersion)
	}
	b, ok := r.BreakdownOf("workload")
	if !ok || b.UnitsKiB["docker.service"] == nil || *b.UnitsKiB["docker.service"] == 0 {
		t.Fatalf("%s: workload breakdown lacks docker.service: %+v", r.Node, b)
	}
	scope := ""
	for name, kib := range b.CgroupsKiB {
		if strings.HasPrefix(name, "system.slice/docker-") && strings.HasSuffix(name, ".scope") && kib > 10*1024 {
			scope = name
		}
	}
	if scope == "" {
		t.Errorf("%s: the database's container scope is not in the breakdown: %v", r.Node, b.CgroupsKiB)
	}
	if r.API == nil || r.API.Verdict != results.APIResponsive || r.API.Successes != 5 {
		t.Fatalf("%s: api %+v", r.Node, r.API)
	}
	med, mx, _ := r.API.Latency()
	t.Logf("%s: used idle %.1f MiB, with the database %.1f MiB (of %.0f); API %s %d/%d, latency median %.1f ms max %.1f ms",
		r.Node, idle.UsedMiB, work.UsedMiB, work.MemTotalMiB, r.API.Verdict, r.API.Successes, len(r.API.Attempts), med*1000, mx*1000)
	t.Logf("%s: units %s; container scope %.0f MiB; top processes %s; version %s",
		r.Node, units(b), results.MiB(b.CgroupsKiB[scope]), procs(b, 4), r.SystemVersion)
	if wr, ok := r.PhaseSeconds("workloadReady"); ok {
		t.Logf("%s: phases: agent start %.1f s, ready %.1f s, database ready after %.1f s", r.Node, phaseEnd(r, "boot"), phaseEnd(r, "ready"), wr)
	}
}

// checkLean: the variant's record names both options and what they set,
// and the restarted daemons run with them.
func checkLean(t *testing.T, r results.Result) {
	t.Helper()
	if r.Variant == nil || r.Variant.Name != "docker-lean" || strings.Join(r.Variant.OptionNames(), ",") != "noUserlandProxy,goMemLimit" {
		t.Errorf("variant record %+v", r.Variant)
	}
	if got := r.Facts["docker.environment"]; got != "GOMEMLIMIT=800MiB" {
		t.Errorf("docker.service runs with %q, want GOMEMLIMIT=800MiB", got)
	}
	if got := r.Facts["docker.daemonJSON"]; got != `{"userland-proxy":false}` {
		t.Errorf("daemon.json %q", got)
	}
}

// checkSearched: each system passes at 384 MiB and fails at 128, both
// tried in the first and only wave, each size a node of the run folder.
func checkSearched(t *testing.T, runDir string, run record.Run) {
	t.Helper()
	if run.Search == nil || len(run.Search.Systems) != 2 {
		t.Fatalf("results.json's search: %+v", run.Search)
	}
	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	for _, sys := range run.Search.Systems {
		for _, tr := range sys.Tried {
			t.Logf("%s at %d MiB, wave %d: %s %s", sys.System, tr.SizeMiB, tr.Wave, tr.Verdict, tr.Why)
			if _, err := os.Stat(filepath.Join(runDir, "nodes", fmt.Sprintf("%s-%dm.json", sys.System, tr.SizeMiB))); err != nil {
				t.Errorf("%s at %d MiB: no saved result: %v", sys.System, tr.SizeMiB, err)
			}
			if tr.Wave != 1 {
				t.Errorf("%s at %d MiB in wave %d, want 1", sys.System, tr.SizeMiB, tr.Wave)
			}
		}
		if sys.Outcome != search.Found || sys.ThresholdMiB != 384 || sys.FailsAtMiB != 128 || len(sys.Tried) != 2 {
			t.Errorf("%s: outcome %s, threshold %d, fails at %d, %d sizes tried: want 384 found with 128 failing",
				sys.System, sys.Outcome, sys.ThresholdMiB, sys.FailsAtMiB, len(sys.Tried))
		}
		row := fmt.Sprintf("| %s | **384 MiB** | 128 MiB |", sys.System)
		if !strings.Contains(string(md), row) {
			t.Errorf("report.md lacks %q", row)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, "search.svg")); err != nil {
		t.Errorf("no search.svg: %v", err)
	}
}

// checkPair: report.md and results.csv set the variant against Docker's
// defaults at 384 MiB.
func checkPair(t *testing.T, runDir string) {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	row := ""
	for _, l := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(l, "| 384 | docker-lean | noUserlandProxy, goMemLimit | ") {
			row = l
		}
	}
	if !strings.Contains(string(md), "## Variants against their defaults") || row == "" {
		t.Fatalf("report.md does not set docker-lean against docker at 384 MiB")
	}
	t.Logf("the pair: %s", row)
	csv, err := os.ReadFile(filepath.Join(runDir, "results.csv"))
	must(t, err)
	if !strings.Contains(string(csv), ",docker,noUserlandProxy;goMemLimit,") {
		t.Errorf("results.csv lacks the variant's rows")
	}
}

// checkWorkloadNamed: the record keeps the workload image that ran, and
// report.md names the stand-in by it, not as the MySQL it stands in for.
func checkWorkloadNamed(t *testing.T, runDir string, run record.Run) {
	t.Helper()
	if got := run.Experiment["workloadImage"]; got != "footprint/standin-mysql:1" {
		t.Errorf("results.json's experiment: workloadImage %v, want footprint/standin-mysql:1", got)
	}
	md, err := os.ReadFile(filepath.Join(runDir, "report.md"))
	must(t, err)
	if !strings.Contains(string(md), "| Used with standin-mysql (MiB) |") || strings.Contains(string(md), "Used with MySQL") {
		t.Errorf("report.md does not name the workload standin-mysql:\n%s", md)
	}
}

func units(b results.Breakdown) string {
	var s []string
	for n, v := range b.UnitsKiB {
		if v != nil {
			s = append(s, fmt.Sprintf("%s %.0f MiB", n, results.MiB(*v)))
		}
	}
	return strings.Join(s, ", ")
}

func procs(b results.Breakdown, n int) string {
	var s []string
	for i := 0; i < n && i < len(b.TopProcesses); i++ {
		s = append(s, fmt.Sprintf("%s %.0f MiB", b.TopProcesses[i].Name, results.MiB(b.TopProcesses[i].RSSKiB)))
	}
	return strings.Join(s, ", ")
}

// scanForSecrets reads the run's secrets back from the encrypted state and
// fails if any of them appears in clear in the run folder, the stack
// outputs, the state backend, or what footprint printed.
func scanForSecrets(t *testing.T, h *host, dir, runDir, printed, keyFile string) {
	t.Helper()
	state := filepath.Join(dir, ".footprint")
	env := []string{
		"PULUMI_BACKEND_URL=file://" + filepath.Join(state, "backend"),
		"PULUMI_CONFIG_PASSPHRASE_FILE=" + filepath.Join(state, "passphrase"),
		"PULUMI_SKIP_UPDATE_CHECK=true",
	}
	pulumi := func(args ...string) string {
		cmd := exec.Command(pulumiCLI(t), args...)
		cmd.Dir = filepath.Join(state, "work", "docker")
		cmd.Env = append(os.Environ(), env...)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			t.Fatalf("pulumi %v: %v\n%s", args, err, buf.String())
		}
		return buf.String()
	}
	password := strings.TrimSpace(pulumi("config", "get", "footprint:mysqlPassword", "--stack", "docker"))
	key, err := os.ReadFile(keyFile)
	must(t, err)
	if len(password) < 12 || !strings.Contains(string(key), "OPENSSH PRIVATE KEY") {
		t.Fatalf("could not read the run's secrets back (password %d chars)", len(password))
	}
	if info, _ := os.Stat(keyFile); info.Mode().Perm() != 0o600 {
		t.Errorf("--ssh-key wrote the key with mode %v, want 0600", info.Mode().Perm())
	}
	keyBody := strings.Split(strings.TrimSpace(string(key)), "\n")[2] // a line of the key's base64
	secrets := map[string]string{
		"mysql password":           password,
		"mysql password (base64)":  base64.StdEncoding.EncodeToString([]byte(password)),
		"ssh private key material": keyBody,
	}
	corpus := map[string]string{
		"footprint's output": printed,
		"stack outputs":      pulumi("stack", "output", "--json", "--stack", "docker"),
	}
	for _, root := range []string{runDir, filepath.Join(state, "backend")} {
		must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			corpus[p] = string(data)
			return err
		}))
	}
	scanned := 0
	for where, text := range corpus {
		scanned++
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s appears in clear in %s", what, where)
			}
		}
	}
	t.Logf("secrets: %d values searched in %d files and outputs; none found in clear", len(secrets), scanned)
}

func pulumiCLI(t *testing.T) string {
	if p, err := exec.LookPath("pulumi"); err == nil {
		return p
	}
	cache, _ := os.UserCacheDir()
	p := filepath.Join(cache, "footprint", "tools", "bin", "pulumi")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no pulumi CLI: run `make tools`")
	}
	return p
}
