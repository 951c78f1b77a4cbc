package libvirt

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/footprint-dev/footprint/infra/machine"
)

// remoteSSH is the host and user of a qemu+ssh URI, and libvirt's own
// parameters for it (keyfile, known_hosts); nil for any other URI.
type remoteSSH struct {
	addr, user, keyfile, knownHosts string
}

func parseRemoteSSH(uri string) (*remoteSSH, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "qemu+ssh" || u.Host == "" {
		return nil, err
	}
	q := u.Query()
	if q.Get("no_verify") == "1" {
		return nil, errors.New("no_verify=1 is not supported: footprint checks the host's key against known_hosts")
	}
	r := &remoteSSH{addr: net.JoinHostPort(u.Hostname(), "22"), user: u.User.Username(), keyfile: q.Get("keyfile"), knownHosts: q.Get("known_hosts")}
	if r.knownHosts == "" {
		r.knownHosts = q.Get("knownhosts") // the Pulumi provider's spelling
	}
	if p := u.Port(); p != "" {
		r.addr = net.JoinHostPort(u.Hostname(), p)
	}
	if r.user == "" {
		if me, err := user.Current(); err == nil {
			r.user = me.Username
		}
	}
	return r, nil
}

// Tunnel is the route to the guests of a remote qemu+ssh host: through the
// host's SSH server, as libvirt's own connection goes, with the keyfile of
// the URI or the user's agent and keys, and the host's key checked against
// the URI's known_hosts or ~/.ssh/known_hosts, never accepted unseen; nil
// for a host that is not reached over SSH.
func (b Backend) Tunnel() (*machine.Tunnel, error) {
	r, err := parseRemoteSSH(b.URI)
	if err != nil || r == nil {
		return nil, err
	}
	home, _ := os.UserHomeDir()
	known := r.knownHosts
	if known == "" {
		known = filepath.Join(home, ".ssh", "known_hosts")
	}
	hostKeys, err := knownhosts.New(known)
	if err != nil {
		return nil, fmt.Errorf("%s: the host's key must be in known_hosts: %w", key("uri"), err)
	}
	auth, err := authMethods(r.keyfile, home)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key("uri"), err)
	}
	return &machine.Tunnel{Addr: r.addr, User: r.user, Auth: auth, HostKeys: hostKeys}, nil
}

// authMethods are the URI's keyfile, or the SSH agent and the default keys.
func authMethods(keyfile, home string) ([]ssh.AuthMethod, error) {
	files := []string{keyfile}
	if keyfile == "" {
		files = []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_ecdsa"), filepath.Join(home, ".ssh", "id_rsa")}
	}
	var signers []ssh.Signer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			if keyfile != "" {
				return nil, fmt.Errorf("keyfile: %w", err)
			}
			continue
		}
		s, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (a key with a passphrase belongs in the SSH agent)", f, err)
		}
		signers = append(signers, s)
	}
	var methods []ssh.AuthMethod
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && keyfile == "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if len(methods) == 0 {
		return nil, errors.New("no SSH key to reach the host's guests with (no agent, no ~/.ssh/id_*; or set keyfile= in the URI)")
	}
	return methods, nil
}
