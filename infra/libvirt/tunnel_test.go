package libvirt

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// A qemu+ssh host's guests are reached through the host's SSH server, as
// libvirt's URI says: its user, port, keyfile and known_hosts.
func TestTunnelOfARemoteHost(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("SSH_AUTH_SOCK", "")
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := ssh.MarshalPrivateKey(priv, "")
	keyfile := filepath.Join(dir, "lab-key")
	must(t, os.WriteFile(keyfile, pem.EncodeToMemory(block), 0o600))
	hostPub, _ := ssh.NewPublicKey(pub)
	known := filepath.Join(dir, "known")
	must(t, os.WriteFile(known, []byte("[lab.example]:2222 "+string(ssh.MarshalAuthorizedKey(hostPub))), 0o600))

	for _, local := range []string{"qemu:///system", "qemu:///session"} {
		b, err := New("p", `{"uri":"`+local+`"}`)
		if err != nil {
			t.Fatal(err)
		}
		if tun, err := b.Tunnel(); err != nil || tun != nil {
			t.Errorf("%s: tunnel %+v, %v; want none", local, tun, err)
		}
	}
	b, err := New("p", `{"uri":"qemu+ssh://ops@lab.example:2222/system?keyfile=`+keyfile+`&known_hosts=`+known+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	tun, err := b.Tunnel()
	if err != nil || tun == nil {
		t.Fatalf("tunnel: %v", err)
	}
	if tun.Addr != "lab.example:2222" || tun.User != "ops" || len(tun.Auth) != 1 || tun.HostKeys == nil {
		t.Errorf("tunnel %+v", tun)
	}
	if err := tun.HostKeys("lab.example:2222", fakeAddr{}, hostPub); err != nil {
		t.Errorf("the known host key is refused: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _ := ssh.NewPublicKey(other)
	if err := tun.HostKeys("lab.example:2222", fakeAddr{}, otherPub); err == nil {
		t.Error("another host key is accepted")
	}

	// No known_hosts, or no key at all: refused before anything exists.
	b, _ = New("p", `{"uri":"qemu+ssh://lab.example/system"}`)
	if _, err := b.Tunnel(); err == nil || !strings.HasPrefix(err.Error(), "footprint:libvirt.uri: the host's key must be in known_hosts") {
		t.Errorf("err = %v", err)
	}
	must(t, os.MkdirAll(filepath.Join(dir, ".ssh"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, ".ssh", "known_hosts"), nil, 0o600))
	if _, err := b.Tunnel(); err == nil || !strings.Contains(err.Error(), "no SSH key to reach the host's guests with") {
		t.Errorf("err = %v", err)
	}
}

type fakeAddr struct{}

func (fakeAddr) Network() string { return "tcp" }
func (fakeAddr) String() string  { return "192.0.2.1:2222" }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
