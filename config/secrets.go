package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Secrets are a run's own: made anew for every run (NewSecrets) and handed
// to the program beside the experiment, never read from a stack file.
// Under plain `pulumi up` they are the stack's Pulumi secrets
// (ParseSecrets).
type Secrets struct {
	// WorkloadPassword is the workload's root password, whatever the
	// workload image. Its configuration key is still mysqlPassword
	// (KeyMySQLPassword), after the seed's workload.
	WorkloadPassword string
	// SSHPrivateKey opens the nodes to its holder, for debugging; its
	// public half, authorized_keys format, is SSHAuthorizedKey.
	SSHPrivateKey    string
	SSHAuthorizedKey string
	// SSHHostKey is the guests' SSH host key (OpenSSH private key format),
	// given to them in user-data so that the collector pins it;
	// SSHHostPublicKey is its public half, authorized_keys format.
	SSHHostKey       string
	SSHHostPublicKey string
}

// SecretKeys are the keys of the secrets, as `pulumi config set --secret`
// names them.
var SecretKeys = []string{KeyMySQLPassword, KeySSHPrivateKey, KeySSHHostKey}

type secretParser func(s *Secrets, raw string) error

var secretParsers = map[string]secretParser{
	KeyMySQLPassword: func(s *Secrets, raw string) error {
		// Never echo the value itself in an error.
		if len(raw) < 12 || !passwordPattern.MatchString(raw) {
			return fmt.Errorf("must be at least 12 letters, digits, '-' or '_' (the runner generates one per run)")
		}
		s.WorkloadPassword = raw
		return nil
	},
	KeySSHHostKey: func(s *Secrets, raw string) error {
		signer, err := ssh.ParsePrivateKey([]byte(raw))
		if err != nil || signer.PublicKey().Type() != ssh.KeyAlgoED25519 {
			return fmt.Errorf("is not an unencrypted OpenSSH ed25519 private key (the runner generates one per run)")
		}
		s.SSHHostKey = raw
		s.SSHHostPublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
		return nil
	},
	KeySSHPrivateKey: func(s *Secrets, raw string) error {
		signer, err := ssh.ParsePrivateKey([]byte(raw))
		if err != nil {
			return fmt.Errorf("is not an unencrypted OpenSSH private key (the runner generates one per run)")
		}
		s.SSHPrivateKey = raw
		s.SSHAuthorizedKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
		return nil
	},
}

// Values are the secrets by their keys: what ParseSecrets reads back.
func (s Secrets) Values() map[string]string {
	return map[string]string{KeyMySQLPassword: s.WorkloadPassword, KeySSHPrivateKey: s.SSHPrivateKey, KeySSHHostKey: s.SSHHostKey}
}

// ParseSecrets reads the secrets among a stack's configuration values; a
// secret not set stays empty.
func ParseSecrets(values map[string]string) (Secrets, error) {
	var s Secrets
	for _, k := range SecretKeys {
		raw, ok := values[k]
		if !ok {
			continue
		}
		if err := secretParsers[k](&s, strings.TrimSpace(raw)); err != nil {
			return Secrets{}, keyError(k, err)
		}
	}
	return s, nil
}

// NewSecrets are a run's secrets, made anew: a random password, a key pair
// for debugging access and the guests' host key, each key's comment
// naming what (a run's ID) it is for.
func NewSecrets(of string) (Secrets, error) {
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return Secrets{}, err
	}
	client, err := newKey("footprint run " + of)
	if err != nil {
		return Secrets{}, err
	}
	host, err := newKey("footprint guest host key " + of)
	if err != nil {
		return Secrets{}, err
	}
	return ParseSecrets(map[string]string{KeyMySQLPassword: hex.EncodeToString(buf), KeySSHPrivateKey: client, KeySSHHostKey: host})
}

// newKey is a new ed25519 key in OpenSSH's private key format.
func newKey(comment string) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(block)), nil
}
