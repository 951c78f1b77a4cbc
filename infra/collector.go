package infra

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/crypto/ssh"

	"github.com/footprint-dev/footprint/collect"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/infra/machine"
)

// collector is how the program reaches every node's agent: straight to its
// HTTP port, or through the guest's SSH server (ssh set).
type collector struct {
	ssh *collect.SSH // user, keys; Addr is set per machine
}

// newCollector chooses the collector before anything is created: the
// stack's footprint:collect, else SSH where the backend opens nothing else.
// SSH needs the run's client key and the host key it gave the guests.
func newCollector(exp config.Experiment, secrets config.Secrets, b machine.Backend) (collector, error) {
	_, sshOnly := b.(machine.SSHOnly)
	mode := exp.Collect
	if mode == "" {
		mode = config.CollectHTTP
		if sshOnly {
			mode = config.CollectSSH
		}
	}
	if mode == config.CollectHTTP {
		if sshOnly {
			return collector{}, fmt.Errorf("%s:%s: backend %s opens only SSH to its machines; want %s",
				config.Namespace, config.KeyCollect, b.Name(), config.CollectSSH)
		}
		return collector{}, nil
	}
	for _, kv := range [][2]string{{config.KeySSHPrivateKey, secrets.SSHPrivateKey}, {config.KeySSHHostKey, secrets.SSHHostKey}} {
		if key, v := kv[0], kv[1]; v == "" {
			return collector{}, fmt.Errorf("%s:%s: not set, and results are collected over SSH "+
				"(footprint run sets one per run; under plain pulumi up: pulumi config set --secret %s:%s \"$(cat KEYFILE)\")",
				config.Namespace, key, config.Namespace, key)
		}
	}
	signer, err := ssh.ParsePrivateKey([]byte(secrets.SSHPrivateKey))
	if err != nil {
		return collector{}, fmt.Errorf("%s:%s: %w", config.Namespace, config.KeySSHPrivateKey, err)
	}
	host, err := ssh.ParsePrivateKey([]byte(secrets.SSHHostKey))
	if err != nil {
		return collector{}, fmt.Errorf("%s:%s: %w", config.Namespace, config.KeySSHHostKey, err)
	}
	return collector{ssh: &collect.SSH{User: guest.CollectorUser, Signer: signer, HostKey: host.PublicKey()}}, nil
}

// target is the node's agent, reached at the machine's address reach; on
// a remote host's private network, through the host's SSH server.
func (c collector) target(m machine.Machine, reach string) collect.Target {
	url := fmt.Sprintf("http://%s%s", net.JoinHostPort(m.Spec.Address.String(), strconv.Itoa(guest.AgentPort)), guest.ResultPath)
	t := collect.Target{Node: m.Spec.Node, URL: url, ConsoleLog: m.ConsoleLog}
	switch {
	case c.ssh != nil:
		route := *c.ssh
		route.Addr = net.JoinHostPort(reach, "22")
		route.Jump = viaHost(m.Tunnel)
		t.SSH = &route
	case m.Tunnel != nil:
		t.SSH = viaHost(m.Tunnel) // the URL as the host sees its guest
	default:
		// Straight to the port: the URL is the address the runner reaches.
		t.URL = fmt.Sprintf("http://%s%s", net.JoinHostPort(reach, strconv.Itoa(guest.AgentPort)), guest.ResultPath)
	}
	return t
}

// viaHost is the collector's route through a host's SSH server; nil for
// none.
func viaHost(t *machine.Tunnel) *collect.SSH {
	if t == nil {
		return nil
	}
	return &collect.SSH{Addr: t.Addr, User: t.User, Auth: t.Auth, HostKeys: t.HostKeys}
}
