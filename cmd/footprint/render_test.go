package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/runner"
)

// renderProject is a checkout with one stack, t, of two nodes. Validation
// does not fetch an http(s) image, so none is needed.
func renderProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "stacks"), 0o755); err != nil {
		t.Fatal(err)
	}
	stack := "config:\n" +
		"  footprint:image: https://cloud-images.example/noble-minimal.img\n" +
		"  footprint:profiles:\n    - bare\n    - k3s\n" +
		"  footprint:networkCidr: 10.99.7.0/24\n"
	if err := os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runRender runs `footprint render` as the CLI does and returns stdout and
// stderr apart.
func runRender(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := root(context.Background())
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"render"}, args...))
	err := cmd.Execute()
	return stdout.String(), stderr.String(), err
}

// newKey is an ed25519 key in OpenSSH's format, and its body's lines.
func newKey(t *testing.T) (string, []string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	text := string(pem.EncodeToMemory(block))
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return text, lines[1 : len(lines)-1]
}

// publicKeys are the run's public keys in user-data, which differ per run.
var publicKeys = regexp.MustCompile(`ssh-ed25519 [A-Za-z0-9+/=]+`)

// maskedLines are the masked lines of a key's body, as many as its length.
var maskedLines = regexp.MustCompile(`(?m)(^ *\*{8}\n)+`)

// sameButKeys says whether two user-data documents are the same but for
// the keys each run makes anew: their public halves, their length.
func sameButKeys(a, b string) bool {
	norm := func(s string) string {
		return maskedLines.ReplaceAllString(publicKeys.ReplaceAllString(s, "ssh-ed25519 KEY"), "    ********\n")
	}
	return norm(a) == norm(b)
}

// wantUserData is what guest.Render produced for the node with the run's
// secrets, the password and the host key's body masked.
func wantUserData(t *testing.T, dir, node string) string {
	t.Helper()
	p, err := runner.Validate(runner.Options{ProjectDir: dir, Stack: "t"})
	if err != nil {
		t.Fatal(err)
	}
	client, _ := newKey(t)
	host, hostLines := newKey(t)
	secrets, err := config.ParseSecrets(map[string]string{
		config.KeyMySQLPassword: "a-password-only-this-test-uses", config.KeySSHPrivateKey: client, config.KeySSHHostKey: host,
	})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := infra.Render(p.Experiment, p.Specs, secrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if s.Node == node {
			if !strings.Contains(s.CloudInit.UserData, secrets.WorkloadPassword) {
				t.Fatalf("the user-data of %s lacks the password: the masking below proves nothing", node)
			}
			masked := strings.ReplaceAll(s.CloudInit.UserData, secrets.WorkloadPassword, guest.MaskedSecret)
			for _, line := range hostLines {
				if !strings.Contains(masked, line) {
					t.Fatalf("the user-data of %s lacks the host key: its masking proves nothing", node)
				}
				masked = strings.ReplaceAll(masked, line, guest.MaskedSecret)
			}
			return masked
		}
	}
	t.Fatalf("no node %s planned", node)
	return ""
}

func TestRenderPrintsExactlyTheUserData(t *testing.T) {
	dir := renderProject(t)
	for _, tc := range []struct{ flag, node string }{{"k3s", "k3s"}, {"", "bare"}} {
		args := []string{"--project-dir", dir, "--stack", "t"}
		if tc.flag != "" {
			args = append(args, "--node", tc.flag)
		}
		stdout, stderr, err := runRender(t, args...)
		if err != nil {
			t.Fatalf("render %v: %v", args, err)
		}
		if !strings.HasPrefix(stdout, "#cloud-config\n") {
			t.Errorf("%s: stdout starts with %q, want #cloud-config", tc.node, stdout[:min(len(stdout), 40)])
		}
		if want := wantUserData(t, dir, tc.node); !sameButKeys(stdout, want) {
			t.Errorf("%s: stdout (%d bytes) is not the user-data guest.Render produced, masked (%d bytes)", tc.node, len(stdout), len(want))
		}
		if !strings.Contains(stdout, guest.MaskedSecret) {
			t.Errorf("%s: the masked secret is missing from the user-data", tc.node)
		}
		if strings.Contains(stdout, "PRIVATE KEY-----\n") && strings.Count(stdout, guest.MaskedSecret) < 3 {
			t.Errorf("%s: the host key's body is not masked", tc.node)
		}
		if len(publicKeys.FindAllString(stdout, -1)) != 3 {
			t.Errorf("%s: want the run's key twice (default user, collector) and the host key once", tc.node)
		}
		if !strings.Contains(stderr, "node "+tc.node) || strings.Contains(stderr, "#cloud-config") {
			t.Errorf("%s: stderr %q, want the node named and no user-data", tc.node, stderr)
		}
	}
}

// What the README promises: the printed user-data passes cloud-init's own
// schema check as it is.
func TestRenderedUserDataPassesCloudInitSchema(t *testing.T) {
	if _, err := exec.LookPath("cloud-init"); err != nil {
		t.Skip("cloud-init is not installed (guest's tests require it): run `make tools`")
	}
	stdout, _, err := runRender(t, "--project-dir", renderProject(t), "--stack", "t", "--node", "k3s")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "user-data")
	if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cloud-init", "schema", "--config-file", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Valid cloud-config") {
		t.Errorf("cloud-init schema: %v\n%s", err, out)
	}
}

func TestRenderNamesTheNodesOfAnUnknownOne(t *testing.T) {
	stdout, _, err := runRender(t, "--project-dir", renderProject(t), "--stack", "t", "--node", "k9s")
	if err == nil || !strings.Contains(err.Error(), "bare, k3s") || stdout != "" {
		t.Errorf("render of an unknown node: %v, stdout %q", err, stdout)
	}
}
