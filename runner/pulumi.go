package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/names"
)

// StateDir holds the local Pulumi backend, workspaces and the generated
// passphrase: footprint needs no login and no cloud account.
func StateDir(projectDir string) string { return filepath.Join(projectDir, ".footprint") }

// openStack opens (or creates) the stack's workspace. Its program is the
// stack as plain `pulumi up` runs it; each wave sets its own.
func openStack(ctx context.Context, o Options) (Stack, error) {
	state := StateDir(o.ProjectDir)
	work := filepath.Join(state, "work", o.Stack)
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	env := map[string]string{"PULUMI_SKIP_UPDATE_CHECK": "true"}
	if os.Getenv("PULUMI_BACKEND_URL") == "" {
		backend := filepath.Join(state, "backend")
		if err := os.MkdirAll(backend, 0o700); err != nil {
			return nil, err
		}
		env["PULUMI_BACKEND_URL"] = "file://" + backend
	}
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		file, err := passphraseFile(state)
		if err != nil {
			return nil, err
		}
		env["PULUMI_CONFIG_PASSPHRASE_FILE"] = file
	}
	cmd, err := pulumiCommand()
	if err != nil {
		return nil, err
	}
	program := infra.New(infra.Options{Context: ctx, ProjectDir: o.ProjectDir})
	stack, err := auto.UpsertStackInlineSource(ctx, o.Stack, names.Project, program,
		auto.WorkDir(work), auto.EnvVars(env), auto.Pulumi(cmd), auto.SecretsProvider("passphrase"))
	if err != nil {
		return nil, fmt.Errorf("opening stack %s: %w", o.Stack, &pulumiError{why: tail(err.Error(), 3), err: err})
	}
	return pulumiStack{&stack}, nil
}

// pulumiStack is an Automation API stack whose program each wave sets.
type pulumiStack struct{ *auto.Stack }

func (s pulumiStack) SetProgram(program pulumi.RunFunc) { s.Workspace().SetProgram(program) }

// passphraseFile keeps a random passphrase for the local backend's secrets,
// readable by its owner only, so secrets are never stored in clear.
func passphraseFile(state string) (string, error) {
	path := filepath.Join(state, "passphrase")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(hex.EncodeToString(buf)+"\n"), 0o600)
}

// pulumiCommand finds the Pulumi CLI: on PATH, or where `make tools` built it.
func pulumiCommand() (auto.PulumiCommand, error) {
	if _, err := exec.LookPath("pulumi"); err == nil {
		return auto.NewPulumiCommand(nil)
	}
	for _, root := range toolRoots() {
		if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err == nil {
			return auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
		}
	}
	return nil, errors.New("the Pulumi CLI is not installed: run `make tools` (or install it from pulumi.com)")
}

func toolRoots() []string {
	var roots []string
	if d := os.Getenv("FOOTPRINT_TOOLS_DIR"); d != "" {
		roots = append(roots, d)
	}
	if d, err := os.UserCacheDir(); err == nil {
		roots = append(roots, filepath.Join(d, "footprint", "tools"))
	}
	if d, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(d, ".pulumi"))
	}
	return roots
}

// keepSecrets stores the run's secrets in the stack's configuration,
// encrypted: where the user of a run reads them back (`pulumi config get
// --show-secrets` in its workspace), never where a run reads anything
// from. Whatever else of footprint's an earlier version kept there goes.
func keepSecrets(ctx context.Context, stack Stack, secrets config.Secrets) error {
	current, err := stack.GetAllConfig(ctx)
	if err != nil {
		return fmt.Errorf("reading the stack's configuration: %w", err)
	}
	var stale []string
	for k := range current {
		if ns, key, ok := strings.Cut(k, ":"); ok && ns == config.Namespace && !slices.Contains(config.SecretKeys, key) {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		if err := stack.RemoveAllConfig(ctx, stale); err != nil {
			return fmt.Errorf("removing %s from the stack's configuration: %w", strings.Join(stale, ", "), err)
		}
	}
	kept := auto.ConfigMap{}
	for k, v := range secrets.Values() {
		kept[config.Namespace+":"+k] = auto.ConfigValue{Value: v, Secret: true}
	}
	return stack.SetAllConfig(ctx, kept)
}

func destroy(ctx context.Context, stack Stack, out io.Writer) error {
	_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(out))
	return err
}

// pulumiError is a Pulumi command's failure: why it failed, read from its
// diagnostics or the end of its long text, wrapping the command's error.
type pulumiError struct {
	why string
	err error
}

func (e *pulumiError) Error() string { return e.why }
func (e *pulumiError) Unwrap() error { return e.err }

// pulumiFailure is err with the cause Pulumi wrote to its log at path
// after offset from (the CLI's own error ends in its empty stderr), or
// else the end of err's own text; n lines at most.
func pulumiFailure(err error, path string, from int64, n int) error {
	why := strings.Join(diagnosticsFrom(path, from, n), " | ")
	if why == "" {
		why = tail(err.Error(), n)
	}
	return &pulumiError{why: why, err: err}
}

// tail keeps the end of Pulumi's long error texts, where the cause is.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// diagnosticsFrom are the last n distinct errors Pulumi wrote to its log
// after offset from, each an "error:" line with the "* cause" lines under
// it.
func diagnosticsFrom(path string, from int64, n int) []string {
	data, err := os.ReadFile(path)
	if err != nil || from > int64(len(data)) {
		return nil
	}
	data = data[from:]
	var out []string
	cur := ""
	flush := func() {
		if cur != "" && !slices.Contains(out, cur) {
			out = append(out, cur)
		}
		cur = ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "error: "):
			flush()
			cur = line
		case cur != "" && strings.HasPrefix(line, "* "):
			cur += " " + line
		default:
			flush()
		}
	}
	flush()
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
