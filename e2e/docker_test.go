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

	"github.com/footprint-dev/footprint/results"
)

// The docker profile for real, on the test image's docker variant (Docker
// from Debian preinstalled, a MariaDB image built from Debian packages
// standing in for MySQL): the workload path, the breakdown and the API
// probe all run in a real guest. Then every file and output of the run is
// searched for the run's secrets.
func TestDockerWithWorkloadOnARealVM(t *testing.T) {
	h := newHost(t)
	img := filepath.Join(repoRoot(t), "build", "images", "test-bookworm-docker.qcow2")
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("docker test image missing (make test-image builds it): %v", err)
	}
	stack := strings.Replace(stackYAML(`  footprint:profiles: [docker]
  footprint:preinstalled: [docker]
  footprint:workloadImage: footprint/standin-mysql:1
  footprint:readyTimeout: 5m
  footprint:workloadTimeout: 8m
  footprint:apiAttempts: 5
  footprint:collectDeadline: 25m
`), "build/images/test-bookworm.qcow2", "build/images/docker.qcow2", 1)
	dir := project(t, "docker", stack)
	must(t, os.Symlink(img, filepath.Join(dir, "build", "images", "docker.qcow2")))
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")

	start := time.Now()
	out, code := h.exec(dir, nil, footprint(t), "run", "--stack", "docker", "--ssh-key", keyFile)
	t.Logf("footprint run took %s, exit %d", elapsed(start), code)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	runDir, run := onlyRun(t, dir)
	if len(run.Nodes) != 1 {
		t.Fatalf("%d nodes", len(run.Nodes))
	}
	r := run.Nodes[0]
	checkAccounting(t, r)
	want := "boot=ok install=preinstalled ready=ok settle=ok idle=ok workload=ok workloadReady=ok settle-workload=ok workload=ok api=ok"
	if got := r.PhaseList(); got != want || r.Status != results.StatusOK {
		t.Fatalf("status %s, phases\n got %s\nwant %s\ndetail %s", r.Status, got, want, r.Detail)
	}
	idle, ok1 := r.Summarize("idle")
	work, ok2 := r.Summarize("workload")
	if !ok1 || !ok2 {
		t.Fatal("missing idle or workload samples")
	}
	if work.UsedMiB <= idle.UsedMiB+20 {
		t.Errorf("used with the database %.0f MiB is not clearly above idle %.0f MiB", work.UsedMiB, idle.UsedMiB)
	}
	if !strings.HasPrefix(r.SystemVersion, "docker ") {
		t.Errorf("system version %q", r.SystemVersion)
	}
	b, ok := r.BreakdownOf("workload")
	if !ok || b.UnitsKiB["docker.service"] == nil || *b.UnitsKiB["docker.service"] == 0 {
		t.Fatalf("workload breakdown lacks docker.service: %+v", b)
	}
	scope := ""
	for name, kib := range b.CgroupsKiB {
		if strings.HasPrefix(name, "system.slice/docker-") && strings.HasSuffix(name, ".scope") && kib > 10*1024 {
			scope = name
		}
	}
	if scope == "" {
		t.Errorf("the database's container scope is not in the breakdown: %v", b.CgroupsKiB)
	}
	if r.API == nil || r.API.Verdict != results.APIResponsive || r.API.Successes != 5 {
		t.Errorf("api %+v", r.API)
	}
	med, mx, _ := r.API.Latency()
	t.Logf("docker: used idle %.0f MiB, with the database %.0f MiB (of %.0f); API %s %d/%d, latency median %.1f ms max %.1f ms",
		idle.UsedMiB, work.UsedMiB, work.MemTotalMiB, r.API.Verdict, r.API.Successes, len(r.API.Attempts), med*1000, mx*1000)
	t.Logf("docker: units %s; container scope %s %.0f MiB; top processes %s; version %s",
		units(b), scope, results.MiB(b.CgroupsKiB[scope]), procs(b, 4), r.SystemVersion)
	if wr, ok := r.PhaseSeconds("workloadReady"); ok {
		t.Logf("docker: phases: agent start %.1f s, ready %.1f s, database ready after %.1f s", phaseEnd(r, "boot"), phaseEnd(r, "ready"), wr)
	}

	scanForSecrets(t, h, dir, runDir, out, keyFile)
	noLeftovers(t, h, "footprint-docker")
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
