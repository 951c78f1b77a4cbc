package infra

import (
	"os"
	"path/filepath"
	"testing"
)

// A node of a remote qemu+ssh host is collected through the host's SSH
// server, the agent asked at its private address as the host sees it; with
// footprint:collect ssh, the guest's own SSH server is reached through it.
func TestRemoteLibvirtGuestsAreReachedThroughTheHost(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	key := newKeyPEM(t)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(home, ".ssh"), 0o700))
	must(os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(key), 0o600))
	must(os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), nil, 0o600))
	remote := map[string]string{"footprint:libvirt": `{"uri":"qemu+ssh://ops@lab.example/system","domainType":"qemu"}`, "footprint:networkCidr": "10.99.9.0/24"}
	_, c := runProgram(t, "remote", remote)
	tg := c.targets[0]
	if tg.SSH == nil || tg.SSH.Addr != "lab.example:22" || tg.SSH.User != "ops" || tg.URL != "http://10.99.9.10:9779/result.json" || tg.ConsoleLog != "" {
		t.Errorf("target %+v (ssh %+v), want the agent through lab.example's SSH server", tg, tg.SSH)
	}
	remote["footprint:collect"] = "ssh"
	remote["footprint:sshPrivateKey"], remote["footprint:sshHostKey"] = newKeyPEM(t), newKeyPEM(t)
	_, c = runProgram(t, "remote", remote)
	tg = c.targets[0]
	if tg.SSH == nil || tg.SSH.Addr != "10.99.9.10:22" || tg.SSH.Jump == nil || tg.SSH.Jump.Addr != "lab.example:22" {
		t.Errorf("target %+v (ssh %+v), want the guest's SSH server through lab.example's", tg, tg.SSH)
	}
}
