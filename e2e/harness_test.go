//go:build e2e

// Package e2e runs footprint for real: a private libvirtd in a network
// namespace made by the test, real VMs under QEMU, real cloud-init, real
// HTTP collection and a real teardown checked with virsh.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/runner/report"
)

// repoRoot is the checkout this test file sits in.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// host is one private libvirtd in its own network and mount namespaces.
type host struct {
	t      *testing.T
	name   string
	script string
}

func newHost(t *testing.T) *host {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the end-to-end tests need root (network namespaces, libvirtd): run them as CI does, through `make test` as root")
	}
	root := repoRoot(t)
	h := &host{t: t, name: fmt.Sprintf("fpe2e%d", os.Getpid()%100000), script: filepath.Join(root, "scripts", "libvirt-netns.sh")}
	cache, _ := os.UserCacheDir()
	cmd := exec.Command("bash", h.script, "up", h.name)
	cmd.Env = append(os.Environ(), "FOOTPRINT_NETNS_CAPS_CACHE="+filepath.Join(cache, "footprint", "libvirt-caps"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting a private libvirtd: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		out, err := exec.Command("bash", h.script, "down", h.name).CombinedOutput()
		if err != nil {
			t.Errorf("tearing down namespace %s: %v\n%s", h.name, err, out)
		}
	})
	return h
}

// exec runs a command inside the namespaces, in dir, and returns its
// combined output and exit code.
func (h *host) exec(dir string, env []string, args ...string) (string, int) {
	h.t.Helper()
	cmd := exec.Command("bash", append([]string{h.script, "exec", h.name, "--"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("running %v: %v", args, err)
	}
	return buf.String(), code
}

func (h *host) virsh(args ...string) string {
	h.t.Helper()
	out, code := h.exec("/", nil, append([]string{"virsh", "-q", "-c", "qemu:///system"}, args...)...)
	if code != 0 {
		h.t.Fatalf("virsh %v: exit %d\n%s", args, code, out)
	}
	return out
}

// leftovers lists every libvirt object whose name starts with prefix.
func (h *host) leftovers(prefix string) []string {
	h.t.Helper()
	var left []string
	for _, kind := range []struct{ what, cmd string }{
		{"domain", "list --all --name"}, {"network", "net-list --all --name"}, {"pool", "pool-list --all --name"},
	} {
		for _, name := range strings.Fields(h.virsh(strings.Fields(kind.cmd)...)) {
			if strings.HasPrefix(name, prefix) {
				left = append(left, kind.what+" "+name)
			}
		}
	}
	for _, pool := range strings.Fields(h.virsh("pool-list", "--all", "--name")) {
		out := h.virsh("vol-list", "--pool", pool)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
				left = append(left, "volume "+pool+"/"+f[0])
			}
		}
	}
	return left
}

// project is a throwaway footprint project folder: the repository's
// Pulumi.yaml and one stack file, and the test image, so that state and
// runs of the test never mix with a developer's.
func project(t *testing.T, stack, stackYAML string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	img := os.Getenv("FOOTPRINT_TEST_IMAGE")
	if img == "" {
		img = filepath.Join(root, "build", "images", "test-bookworm.qcow2")
	}
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("test image %s is missing: run `make test-image` (make test does)", img)
	}
	must(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "build", "images"), 0o755))
	must(t, os.Symlink(img, filepath.Join(dir, "build", "images", "test-bookworm.qcow2")))
	data, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), data, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi."+stack+".yaml"), []byte(stackYAML), 0o644))
	return dir
}

// footprintBinary builds the CLI once per test binary.
var builtCLI string

func footprint(t *testing.T) string {
	t.Helper()
	if builtCLI != "" {
		return builtCLI
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("footprint-e2e-%d", os.Getpid()))
	cmd := exec.Command("go", "build", "-o", out, "./cmd/footprint")
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	builtCLI = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtCLI != "" {
		os.Remove(builtCLI)
	}
	os.Exit(code)
}

// onlyRun returns the single run folder a run created.
func onlyRun(t *testing.T, projectDir string) (string, report.Run) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(projectDir, "runs"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("want exactly one run folder, got %v (%v)", entries, err)
	}
	dir := filepath.Join(projectDir, "runs", entries[0].Name())
	run, err := report.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, run
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func elapsed(start time.Time) string { return time.Since(start).Round(100 * time.Millisecond).String() }
