package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSH is the route to an agent through the guest's SSH server, for guests
// whose agent port is not reachable (a cloud instance open to SSH only). The
// collector logs in with the run's key, accepts only the host key the run
// gave the guest, never a first use, and asks the agent over a forwarded
// channel: no shell and no login session is started in the guest, and every
// attempt closes its connection, so nothing of the collector stays resident
// while the guest is measured.
//
// The same route reaches the agents of a remote libvirt host through that
// host's SSH server (Addr the host, the URL as the host sees the guest),
// with the user's keys and known_hosts instead of the run's.
type SSH struct {
	Addr    string // host:port of the SSH server, as the runner reaches it
	User    string
	Signer  ssh.Signer    // the run's client key; or Auth
	HostKey ssh.PublicKey // the host key the guest was given; or HostKeys
	// Auth and HostKeys, when set, replace Signer and HostKey: a host's own
	// SSH server, checked against the user's known_hosts.
	Auth     []ssh.AuthMethod
	HostKeys ssh.HostKeyCallback
	// Jump, when set, is the SSH server Addr is reached through (the libvirt
	// host of a guest on its private network).
	Jump    *SSH
	Timeout time.Duration // of the connection and handshake
}

// ErrHostKey is a host key that is not trusted: not retried.
var ErrHostKey = errors.New("ssh: host key not trusted")

// String is how the collection record names the route.
func (s SSH) String() string {
	if s.Jump != nil {
		return s.Jump.String() + " -> " + fmt.Sprintf("ssh://%s@%s", s.User, s.Addr)
	}
	return fmt.Sprintf("ssh://%s@%s", s.User, s.Addr)
}

// DialContext connects to addr, as the guest sees it, through the guest's
// SSH server. Closing the returned connection closes the SSH connection.
// Connecting, the handshake and the forwarding end with ctx or after
// Timeout, whichever is first.
func (s SSH) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var raw net.Conn
	var err error
	if s.Jump != nil {
		raw, err = s.Jump.DialContext(ctx, "tcp", s.Addr)
	} else {
		var d net.Dialer
		raw, err = d.DialContext(ctx, "tcp", s.Addr)
	}
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{User: s.User, Auth: s.Auth, HostKeyCallback: s.checkKnownHost, Timeout: timeout}
	if s.HostKeys == nil {
		cfg.HostKeyCallback, cfg.HostKeyAlgorithms = s.checkHostKey, []string{s.HostKey.Type()}
	}
	if len(s.Auth) == 0 {
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(s.Signer)}
	}
	conn, chans, reqs, err := handshake(ctx, raw, s.Addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", s.Addr, err)
	}
	client := ssh.NewClient(conn, chans, reqs)
	ch, err := client.DialContext(ctx, network, addr)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("ssh to %s: forwarding to %s: %w", s.Addr, addr, err)
	}
	return tunnel{Conn: ch, client: client}, nil
}

// handshake is SSH's handshake on raw, which ends with ctx: raw is closed
// then. A deadline on raw would not do: through a jump host raw is an SSH
// channel, which has none, and a server that takes the connection and
// never answers would hold the dial for ever.
func handshake(ctx context.Context, raw net.Conn, addr string, cfg *ssh.ClientConfig) (ssh.Conn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	conn, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if !stop() {
		if err == nil {
			conn.Close()
		}
		return nil, nil, nil, fmt.Errorf("no handshake: %w", context.Cause(ctx))
	}
	if err != nil {
		raw.Close()
	}
	return conn, chans, reqs, err
}

func (s SSH) checkHostKey(_ string, _ net.Addr, key ssh.PublicKey) error {
	if err := ssh.FixedHostKey(s.HostKey)(s.Addr, nil, key); err != nil {
		return fmt.Errorf("%w: %s offered %s %s, not the key this run gave the guest", ErrHostKey, s.Addr, key.Type(), ssh.FingerprintSHA256(key))
	}
	return nil
}

func (s SSH) checkKnownHost(host string, remote net.Addr, key ssh.PublicKey) error {
	if err := s.HostKeys(host, remote, key); err != nil {
		return fmt.Errorf("%w: %s offered %s %s: %w", ErrHostKey, s.Addr, key.Type(), ssh.FingerprintSHA256(key), err)
	}
	return nil
}

// tunnel is a forwarded channel that takes its SSH connection with it.
type tunnel struct {
	net.Conn
	client *ssh.Client
}

func (t tunnel) Close() error {
	err := t.Conn.Close()
	if cerr := t.client.Close(); err == nil {
		err = cerr
	}
	return err
}
