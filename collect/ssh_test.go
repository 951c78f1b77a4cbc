package collect

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/footprint-dev/footprint/results"
)

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sshGuest is a guest's SSH server as the collector meets it: it presents a
// host key, admits one user with one key, forwards direct-tcpip channels and
// refuses sessions, counting each so a test can tell none was opened.
type sshGuest struct {
	addr       string
	forwards   atomic.Int32
	sessions   atomic.Int32
	authFailed atomic.Int32
}

func startSSHGuest(t *testing.T, hostKey ssh.Signer, user string, client ssh.PublicKey) *sshGuest {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	g := &sshGuest{addr: ln.Addr().String()}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if c.User() == user && bytes.Equal(k.Marshal(), client.Marshal()) {
			return nil, nil
		}
		g.authFailed.Add(1)
		return nil, errors.New("not authorized")
	}}
	cfg.AddHostKey(hostKey)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go g.serve(conn, cfg)
		}
	}()
	return g
}

func (g *sshGuest) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "direct-tcpip" {
			g.sessions.Add(1)
			nc.Reject(ssh.Prohibited, "no sessions here")
			continue
		}
		var dest struct {
			Host       string
			Port       uint32
			OriginHost string
			OriginPort uint32
		}
		if err := ssh.Unmarshal(nc.ExtraData(), &dest); err != nil {
			nc.Reject(ssh.ConnectionFailed, err.Error())
			continue
		}
		g.forwards.Add(1)
		target, err := net.Dial("tcp", net.JoinHostPort(dest.Host, strconv.Itoa(int(dest.Port))))
		if err != nil {
			nc.Reject(ssh.ConnectionFailed, err.Error())
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			target.Close()
			continue
		}
		go ssh.DiscardRequests(creqs)
		go func() { io.Copy(ch, target); ch.CloseWrite(); ch.Close() }()
		go func() { io.Copy(target, ch); target.Close() }()
	}
}

// The agent is reached through the guest's SSH server with the pinned host
// key: the result arrives, every attempt is a forwarded channel, and no
// session (no shell, no login) is ever asked for.
func TestCollectThroughSSHWithThePinnedHostKey(t *testing.T) {
	var calls atomic.Int32
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.Write([]byte(`{"schemaVersion":1,"node":"bare","status":"running","phases":[],"samples":[]}`))
			return
		}
		w.Write([]byte(okDoc))
	}))
	defer agent.Close()
	hostKey, clientKey := newSigner(t), newSigner(t)
	g := startSSHGuest(t, hostKey, "footprint", clientKey.PublicKey())

	route := &SSH{Addr: g.addr, User: "footprint", Signer: clientKey, HostKey: hostKey.PublicKey()}
	r, err := Collect(context.Background(), Target{Node: "bare", URL: agent.URL + "/result.json", SSH: route}, fastOptions(5*time.Second))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if r.Status != results.StatusOK || r.Collection.Attempts != 3 {
		t.Fatalf("status %q after %d attempts, want ok after 3", r.Status, r.Collection.Attempts)
	}
	if got := g.forwards.Load(); got != 3 {
		t.Errorf("%d forwarded channels, want one per attempt (3)", got)
	}
	if got := g.sessions.Load(); got != 0 {
		t.Errorf("the collector asked for %d sessions, want none", got)
	}
	if want := "ssh://footprint@" + g.addr; r.Collection.Via != want {
		t.Errorf("collection via %q, want %q", r.Collection.Via, want)
	}
}

// A guest that presents another host key is never trusted, and not retried
// until the deadline either: the first attempt ends the collection.
func TestCollectThroughSSHRefusesAnotherHostKey(t *testing.T) {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(okDoc)) }))
	defer agent.Close()
	clientKey := newSigner(t)
	g := startSSHGuest(t, newSigner(t), "footprint", clientKey.PublicKey())

	route := &SSH{Addr: g.addr, User: "footprint", Signer: clientKey, HostKey: newSigner(t).PublicKey()}
	start := time.Now()
	r, err := Collect(context.Background(), Target{Node: "bare", URL: agent.URL, SSH: route}, fastOptions(20*time.Second))
	if err == nil {
		t.Fatalf("collected %q from a guest with another host key", r.Status)
	}
	if !strings.Contains(err.Error(), "host key not trusted") || !strings.Contains(err.Error(), "not the key this run gave the guest") {
		t.Errorf("error %q does not say the host key is wrong", err)
	}
	if r.Collection.Attempts != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("%d attempts in %s, want one and no wait for the deadline", r.Collection.Attempts, time.Since(start))
	}
	if g.forwards.Load() != 0 {
		t.Error("a channel was forwarded for an untrusted host")
	}
}

// A key the guest does not admit is retried (the guest may not have its
// user yet) until the deadline, and the error says why.
func TestCollectThroughSSHWithAKeyTheGuestRefuses(t *testing.T) {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(okDoc)) }))
	defer agent.Close()
	hostKey := newSigner(t)
	g := startSSHGuest(t, hostKey, "footprint", newSigner(t).PublicKey())

	route := &SSH{Addr: g.addr, User: "footprint", Signer: newSigner(t), HostKey: hostKey.PublicKey()}
	_, err := Collect(context.Background(), Target{Node: "bare", URL: agent.URL, SSH: route}, fastOptions(time.Second))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("error %v, want the deadline with the authentication failure", err)
	}
	if g.authFailed.Load() < 2 {
		t.Errorf("%d refused logins, want the collector to retry", g.authFailed.Load())
	}
}

// A guest on a remote libvirt host's private network is reached through the
// host's SSH server, checked against known_hosts, then the guest's with the
// pinned key: two hops, one forwarded channel each, no session on either.
func TestCollectThroughAJumpHost(t *testing.T) {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(okDoc)) }))
	defer agent.Close()
	hostKey, guestKey, userKey, runKey := newSigner(t), newSigner(t), newSigner(t), newSigner(t)
	lab := startSSHGuest(t, hostKey, "lab", userKey.PublicKey())
	guest := startSSHGuest(t, guestKey, "footprint", runKey.PublicKey())

	jump := &SSH{Addr: lab.addr, User: "lab", Auth: []ssh.AuthMethod{ssh.PublicKeys(userKey)}, HostKeys: ssh.FixedHostKey(hostKey.PublicKey())}
	route := &SSH{Addr: guest.addr, User: "footprint", Signer: runKey, HostKey: guestKey.PublicKey(), Jump: jump}
	r, err := Collect(context.Background(), Target{Node: "bare", URL: agent.URL, SSH: route}, fastOptions(5*time.Second))
	if err != nil || r.Status != results.StatusOK {
		t.Fatalf("Collect: %v (%+v)", err, r.Collection)
	}
	if lab.forwards.Load() != 1 || guest.forwards.Load() != 1 || lab.sessions.Load()+guest.sessions.Load() != 0 {
		t.Errorf("forwards %d (host) %d (guest), sessions %d: want one forward each, no session",
			lab.forwards.Load(), guest.forwards.Load(), lab.sessions.Load()+guest.sessions.Load())
	}
	if want := "ssh://lab@" + lab.addr + " -> ssh://footprint@" + guest.addr; r.Collection.Via != want {
		t.Errorf("via %q, want %q", r.Collection.Via, want)
	}

	// A host that is not the known one is refused at once.
	jump.HostKeys = ssh.FixedHostKey(newSigner(t).PublicKey())
	_, err = Collect(context.Background(), Target{Node: "bare", URL: agent.URL, SSH: route}, fastOptions(20*time.Second))
	if err == nil || !strings.Contains(err.Error(), "host key not trusted") || !strings.Contains(err.Error(), lab.addr) {
		t.Errorf("err = %v, want the jump host's key refused", err)
	}
}

// silentServer takes connections and never says a word, as a guest whose
// SSH server hangs; it counts the connections the client has closed.
type silentServer struct {
	addr             string
	accepted, closed atomic.Int32
}

func startSilent(t *testing.T) *silentServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{addr: ln.Addr().String()}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); close(done) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go func() {
				go func() { <-done; c.Close() }()
				io.Copy(io.Discard, c) // until the client closes
				s.closed.Add(1)
			}()
		}
	}()
	return s
}

// allClosed waits up to d for the client to close every connection.
func (s *silentServer) allClosed(d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if n := s.accepted.Load(); n > 0 && s.closed.Load() == n {
			return true
		}
	}
	return false
}

// The handshake with a guest behind a jump host, whose connection is an
// SSH channel without deadlines, ends at the route's Timeout when the
// guest takes the connection and never answers.
func TestSSHHandshakeThroughAJumpHostIsBounded(t *testing.T) {
	hostKey, userKey, runKey := newSigner(t), newSigner(t), newSigner(t)
	lab := startSSHGuest(t, hostKey, "lab", userKey.PublicKey())
	guest := startSilent(t)
	jump := &SSH{Addr: lab.addr, User: "lab", Auth: []ssh.AuthMethod{ssh.PublicKeys(userKey)}, HostKeys: ssh.FixedHostKey(hostKey.PublicKey())}
	route := &SSH{Addr: guest.addr, User: "footprint", Signer: runKey, HostKey: newSigner(t).PublicKey(), Jump: jump, Timeout: 300 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		c, err := route.DialContext(context.Background(), "tcp", "127.0.0.1:9779")
		if c != nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "ssh to "+guest.addr+": no handshake") {
			t.Errorf("err = %v, want the handshake's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handshake with a silent guest behind a jump host is still waiting")
	}
	if !guest.allClosed(5 * time.Second) {
		t.Errorf("%d of %d connections to the silent guest left open", guest.accepted.Load()-guest.closed.Load(), guest.accepted.Load())
	}
}

// Each attempt that times out in an SSH handshake abandons its dial; the
// dial is cancelled then, not left to hold a connection to the guest until
// the route's own (long) Timeout, and none is left when the collection ends.
func TestAbandonedSSHDialsAreCancelled(t *testing.T) {
	guest := startSilent(t)
	route := &SSH{Addr: guest.addr, User: "footprint", Signer: newSigner(t), HostKey: newSigner(t).PublicKey(), Timeout: time.Minute}
	done := make(chan error, 1)
	go func() {
		_, err := Collect(context.Background(), Target{Node: "bare", URL: "http://127.0.0.1:9779/result.json", SSH: route}, fastOptions(3*time.Second))
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	if n, open := guest.accepted.Load(), guest.accepted.Load()-guest.closed.Load(); n < 3 || open > 2 {
		t.Errorf("mid-collection: %d of %d connections open, want only the attempt's own", open, n)
	}
	if err := <-done; err == nil {
		t.Fatal("collected from a guest that never answers")
	}
	if !guest.allClosed(2 * time.Second) {
		t.Errorf("%d of %d connections of abandoned dials still open", guest.accepted.Load()-guest.closed.Load(), guest.accepted.Load())
	}
}
