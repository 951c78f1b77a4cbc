// Package labhost drives a private libvirtd in a network namespace of its
// own (scripts/libvirt-netns.sh), for the end-to-end tests and the
// benchmarks: every packet between host and guests stays inside it, and
// nothing collides with a libvirtd already on the machine.
package labhost

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Host is one private libvirtd.
type Host struct {
	Name   string
	Script string
}

// Up starts a private libvirtd in a new namespace called name.
func Up(repoRoot, name string) (*Host, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("a private libvirtd needs root (network namespaces): run as root, as CI does")
	}
	h := &Host{Name: name, Script: filepath.Join(repoRoot, "scripts", "libvirt-netns.sh")}
	cache, _ := os.UserCacheDir()
	cmd := exec.Command("bash", h.Script, "up", name)
	cmd.Env = append(os.Environ(), "FOOTPRINT_NETNS_CAPS_CACHE="+filepath.Join(cache, "footprint", "libvirt-caps"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("starting a private libvirtd: %v\n%s", err, out)
	}
	return h, nil
}

// Down stops everything in the namespace and removes it.
func (h *Host) Down() error {
	out, err := exec.Command("bash", h.Script, "down", h.Name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("tearing down namespace %s: %v\n%s", h.Name, err, out)
	}
	return nil
}

// Command prepares a command that runs inside the namespaces, in dir. The
// script execs nsenter, which execs the command: a signal sent to the
// process reaches the command itself.
func (h *Host) Command(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{h.Script, "exec", h.Name, "--"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// Exec runs a command inside the namespaces and returns its combined
// output and exit code; err is set only when it could not run at all.
func (h *Host) Exec(dir string, env []string, args ...string) (string, int, error) {
	cmd := h.Command(dir, env, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return buf.String(), ee.ExitCode(), nil
	}
	return buf.String(), 0, err
}

// Virsh runs virsh against the private libvirtd.
func (h *Host) Virsh(args ...string) (string, error) {
	out, code, err := h.Exec("/", nil, append([]string{"virsh", "-q", "-c", "qemu:///system"}, args...)...)
	if err == nil && code != 0 {
		err = fmt.Errorf("virsh %v: exit %d: %s", args, code, strings.TrimSpace(out))
	}
	return out, err
}

// RestartLibvirtd stops libvirtd, waits down seconds and starts it again.
func (h *Host) RestartLibvirtd(down int) (string, error) {
	out, err := exec.Command("bash", h.Script, "restart-libvirtd", h.Name, fmt.Sprint(down)).CombinedOutput()
	return string(out), err
}

// Leftovers lists every libvirt object whose name starts with prefix.
func (h *Host) Leftovers(prefix string) ([]string, error) {
	var left []string
	for _, kind := range []struct{ what, cmd string }{
		{"domain", "list --all --name"}, {"network", "net-list --all --name"}, {"pool", "pool-list --all --name"},
	} {
		out, err := h.Virsh(strings.Fields(kind.cmd)...)
		if err != nil {
			return nil, err
		}
		for _, name := range strings.Fields(out) {
			if strings.HasPrefix(name, prefix) {
				left = append(left, kind.what+" "+name)
			}
		}
	}
	pools, err := h.Virsh("pool-list", "--all", "--name")
	if err != nil {
		return nil, err
	}
	for _, pool := range strings.Fields(pools) {
		out, err := h.Virsh("vol-list", "--pool", pool)
		if err != nil {
			continue // an inactive pool
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
				left = append(left, "volume "+pool+"/"+f[0])
			}
		}
	}
	return left, nil
}

// Project makes a throwaway footprint project folder: Pulumi.yaml, one
// stack file and links to the given images under build/images, so a run's
// state and results never mix with a developer's.
func Project(repoRoot, dir, stack, stackYAML string, images map[string]string) error {
	if err := os.MkdirAll(filepath.Join(dir, "stacks"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "build", "images"), 0o755); err != nil {
		return err
	}
	for name, src := range images {
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("image %s is missing: run `make test-image`", src)
		}
		if err := os.Symlink(src, filepath.Join(dir, "build", "images", name)); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.yaml"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), data, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "stacks", "Pulumi."+stack+".yaml"), []byte(stackYAML), 0o644)
}

// BuildCLI builds footprint into path.
func BuildCLI(repoRoot, path string) error {
	cmd := exec.Command("go", "build", "-o", path, "./cmd/footprint")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}
