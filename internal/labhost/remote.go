package labhost

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// The link between two lab hosts: a point-to-point subnet of its own,
// inside the two namespaces only.
const (
	linkName   = "fplink0"
	clientAddr = "10.254.254.1"
	serverAddr = "10.254.254.2"
)

// Remote is a lab host reached from another one over SSH, as a second
// machine of a lab is: a veth link between the two namespaces, an OpenSSH
// server inside this one's, and, in the other's mount namespace, a ~/.ssh
// of its own whose key logs in as root and whose known_hosts holds this
// host's key. virsh, the Pulumi provider and footprint then reach it with
// a plain qemu+ssh URI and nothing of the machine's own ~/.ssh is read or
// written.
type Remote struct {
	*Host
	// URI is the remote libvirt URI of this host, as the other sees it.
	URI string
	// Home is the home the other host's ~/.ssh is mounted in: run footprint
	// with HOME set to it, so that Go's SSH clients and OpenSSH agree.
	Home string
	dir  string
	sshd *exec.Cmd
}

// ServeSSH links h to from and starts h's SSH server; dir holds the keys,
// the server's configuration and its log.
func (h *Host) ServeSSH(from *Host, dir string) (*Remote, error) {
	me, err := user.Current()
	if err != nil {
		return nil, err
	}
	r := &Remote{Host: h, URI: "qemu+ssh://root@" + serverAddr + "/system", Home: me.HomeDir, dir: dir}
	steps := []func(*Host) error{r.link, r.keys, r.mountSSHDir, func(*Host) error { return r.Start() }}
	for _, step := range steps {
		if err := step(from); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// link creates the veth pair, one end in each namespace.
func (r *Remote) link(from *Host) error {
	cmds := [][]string{
		{"ip", "link", "add", linkName, "netns", from.Name, "type", "veth", "peer", "name", linkName, "netns", r.Name},
		{"ip", "-n", from.Name, "addr", "add", clientAddr + "/30", "dev", linkName},
		{"ip", "-n", r.Name, "addr", "add", serverAddr + "/30", "dev", linkName},
		{"ip", "-n", from.Name, "link", "set", linkName, "up"},
		{"ip", "-n", r.Name, "link", "set", linkName, "up"},
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	return nil
}

// keys makes the server's host key, the client's key, authorized_keys,
// the client's known_hosts and the server's configuration.
func (r *Remote) keys(*Host) error {
	ssh := filepath.Join(r.dir, "ssh")
	if err := os.MkdirAll(ssh, 0o700); err != nil {
		return err
	}
	for _, k := range []string{filepath.Join(r.dir, "host_ed25519"), filepath.Join(ssh, "id_ed25519")} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "footprint-lab", "-f", k).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	hostPub, err := os.ReadFile(filepath.Join(r.dir, "host_ed25519.pub"))
	if err != nil {
		return err
	}
	clientPub, err := os.ReadFile(filepath.Join(ssh, "id_ed25519.pub"))
	if err != nil {
		return err
	}
	config := strings.Join([]string{
		"ListenAddress " + serverAddr,
		"HostKey " + filepath.Join(r.dir, "host_ed25519"),
		"PidFile " + filepath.Join(r.dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(r.dir, "authorized_keys"),
		// The keys live in a test folder under /tmp, which StrictModes
		// refuses; without PAM a locked root ("!") could not log in, and
		// this lab's root has no password at all ("*").
		"StrictModes no", "UsePAM no", "PermitRootLogin prohibit-password",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"AllowTcpForwarding yes", "AllowStreamLocalForwarding yes", "LogLevel VERBOSE", "",
	}, "\n")
	files := map[string]string{
		filepath.Join(r.dir, "authorized_keys"): string(clientPub),
		filepath.Join(ssh, "known_hosts"):       serverAddr + " " + string(hostPub),
		filepath.Join(r.dir, "sshd_config"):     config,
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// mountSSHDir mounts the test's ssh folder over ~/.ssh in from's mount
// namespace only (the mount point is created on the machine when missing).
func (r *Remote) mountSSHDir(from *Host) error {
	target := filepath.Join(r.Home, ".ssh")
	if err := os.MkdirAll(target, 0o700); err != nil {
		return err
	}
	out, code, err := from.Exec("/", nil, "mount", "--bind", filepath.Join(r.dir, "ssh"), target)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d", code)
	}
	if err != nil {
		return fmt.Errorf("mounting the lab's ~/.ssh in %s: %v: %s", from.Name, err, out)
	}
	return nil
}

// Start starts the SSH server inside the host's namespaces (its libvirt
// socket is the host's own) and waits until it listens.
func (r *Remote) Start() error {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // OpenSSH's privilege separation folder
		return err
	}
	log, err := os.OpenFile(filepath.Join(r.dir, "sshd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	os.Remove(filepath.Join(r.dir, "sshd.pid"))
	r.sshd = r.Command("/", nil, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(r.dir, "sshd_config"))
	r.sshd.Stdout, r.sshd.Stderr = log, log
	if err := r.sshd.Start(); err != nil {
		return fmt.Errorf("starting sshd: %w", err)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(r.dir, "sshd.pid")); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.Stop()
	data, _ := os.ReadFile(filepath.Join(r.dir, "sshd.log"))
	return fmt.Errorf("sshd did not start within 10 s:\n%s", data)
}

// Stop stops the SSH server: the host can no longer be reached, its
// libvirtd and guests go on.
func (r *Remote) Stop() {
	if r.sshd == nil || r.sshd.Process == nil {
		return
	}
	_ = r.sshd.Process.Kill()
	_ = r.sshd.Wait()
	r.sshd = nil
}

// Cut takes the link down, as a host that powers off or drops off the
// network looks from the other side; Mend brings it back.
func (r *Remote) Cut() error  { return r.setLink("down") }
func (r *Remote) Mend() error { return r.setLink("up") }

func (r *Remote) setLink(state string) error {
	out, err := exec.Command("ip", "-n", r.Name, "link", "set", linkName, state).CombinedOutput()
	if err != nil {
		return fmt.Errorf("link %s: %v: %s", state, err, out)
	}
	return nil
}

// Log is the SSH server's log so far.
func (r *Remote) Log() string {
	data, err := os.ReadFile(filepath.Join(r.dir, "sshd.log"))
	if err != nil {
		return err.Error()
	}
	return string(data)
}
