package infra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sshHome is a HOME with a key and a known_hosts file, all a qemu+ssh
// host needs under mocks: its guests are reached through its SSH server.
func sshHome(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := filepath.Join(home, ".ssh")
	for _, err := range []error{
		os.MkdirAll(dir, 0o700),
		os.WriteFile(filepath.Join(dir, "id_ed25519"), []byte(newKeyPEM(t)), 0o600),
		os.WriteFile(filepath.Join(dir, "known_hosts"), nil, 0o600),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Two libvirt hosts in one program: one provider, pool and network each,
// every domain on the host its wave places it on, the Pulumi names
// unique, the libvirt names the stack's on both hosts.
func TestProgramOnTwoLibvirtHosts(t *testing.T) {
	sshHome(t)
	m, c := runPrepared(t, "fleet", map[string]string{
		"libvirt": `{"domainType":"qemu","hosts":[{"uri":"qemu:///system"},{"uri":"qemu+ssh://lab2/system"}]}`,
		"repeats": "3",
	}, map[string]string{"bare-r1": "qemu:///system", "bare-r2": "qemu+ssh://lab2/system", "bare-r3": "qemu+ssh://lab2/system"})
	providers := m.ofType("pulumi:providers:libvirt")
	if len(providers) != 2 {
		t.Fatalf("%d providers, want one per host", len(providers))
	}
	uriOf := map[string]string{} // provider URN -> URI
	for _, p := range providers {
		uriOf[p.name] = str(p, "uri")
	}
	for _, typ := range []string{"libvirt:index/pool:Pool", "libvirt:index/network:Network"} {
		rs := m.ofType(typ)
		if len(rs) != 2 || rs[0].name == rs[1].name || str(rs[0], "name") != "footprint-fleet" || str(rs[1], "name") != "footprint-fleet" {
			t.Errorf("%s: %d, names %v: want one per host, Pulumi names unique, libvirt names the stack's", typ, len(rs), rs)
		}
	}
	hostOf := map[string]string{}
	for _, d := range m.ofType("libvirt:index/domain:Domain") {
		for name, uri := range uriOf {
			if strings.Contains(d.provider, "::"+name+"::") {
				hostOf[str(d, "name")] = uri
			}
		}
	}
	want := map[string]string{"footprint-fleet-bare-r1": "qemu:///system", "footprint-fleet-bare-r2": "qemu+ssh://lab2/system", "footprint-fleet-bare-r3": "qemu+ssh://lab2/system"}
	for d, uri := range want {
		if hostOf[d] != uri {
			t.Errorf("domain %s on %q, want %s (all: %v)", d, hostOf[d], uri, hostOf)
		}
	}
	if len(c.targets) != 3 {
		t.Errorf("%d collections, want 3", len(c.targets))
	}
	for _, tg := range c.targets {
		if tg.Node == "bare-r2" && tg.ConsoleLog != "" {
			t.Errorf("a remote host's console log %q read as a local file", tg.ConsoleLog)
		}
	}
}
