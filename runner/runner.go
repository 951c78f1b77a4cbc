// Package runner drives a stack from the command line: it prepares the
// stack once (Validate), runs the program inline through Pulumi's
// Automation API against a local state backend, one wave of the prepared
// stack after the other, writes what was measured into runs/<run-id>/
// before anything is torn down, and then destroys the stack, also after an
// error or an interrupt.
package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/logs"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/runner/progress"
)

// Options of one invocation: what to run and how; run control (which
// nodes, where to resume, what to keep) lives here, never in the stack's
// configuration.
type Options struct {
	ProjectDir string   // the checkout: Pulumi.yaml, stacks/
	Stack      string   // stack name: stacks/Pulumi.<stack>.yaml
	Set        []string // KEY=VALUE overrides of the stack file
	// Only names the nodes of the stack to run (--only); none: every node.
	Only    []string
	Keep    bool   // leave the machines running
	RunsDir string // default: <ProjectDir>/runs
	Out     io.Writer
	// Log is where everything the user must read goes, passed down to the
	// backend; default: logs.New(Out). During a run it goes through the
	// progress display.
	Log *slog.Logger
	// SSHKeyFile, when set, receives the run's private key (mode 0600);
	// otherwise it is kept only encrypted, in the stack's configuration.
	SSHKeyFile string
	// Progress is how the run shows what each node does; Pulumi's own
	// output goes to runs/<run-id>/pulumi.log.
	Progress progress.Mode
	// Resume, when set, is the folder of an earlier run of the stack: only
	// the nodes it lacks are run, into that folder.
	Resume string

	// Seams for the runner's unit tests: a fake backend and a fake stack in
	// place of the stack's backend and Pulumi's Automation API.
	backend   machine.Backend
	openStack func(ctx context.Context, o Options) (Stack, error)
	// onProgram is shown each wave's program options, for a fake stack to
	// hand results to OnResult as the program does.
	onProgram func(infra.Options)
}

// Stack is what the runner asks of a Pulumi stack.
type Stack interface {
	// SetProgram is the program the next Up runs: a wave of the stack.
	SetProgram(program pulumi.RunFunc)
	// The stack's configuration keeps the run's secrets, encrypted.
	GetAllConfig(ctx context.Context) (auto.ConfigMap, error)
	SetAllConfig(ctx context.Context, config auto.ConfigMap) error
	RemoveAllConfig(ctx context.Context, keys []string) error
	Up(ctx context.Context, opts ...optup.Option) (auto.UpResult, error)
	Destroy(ctx context.Context, opts ...optdestroy.Option) (auto.DestroyResult, error)
	Refresh(ctx context.Context, opts ...optrefresh.Option) (auto.RefreshResult, error)
	Export(ctx context.Context) (apitype.UntypedDeployment, error)
	Import(ctx context.Context, state apitype.UntypedDeployment) error
}

// Outcome is what a run produced.
type Outcome struct {
	RunDir string
	Run    record.Run
	AllOK  bool // every node produced a result with status ok
}

// Validate prepares the stack without creating anything: its file read
// with the overrides, parsed, planned, its backend made and its artifacts
// checked. What it returns is what every command works from.
func Validate(o Options) (*infra.Prepared, error) {
	if err := profiles.LoadError(); err != nil {
		return nil, err
	}
	values, err := config.ReadStackFile(config.StackFile(o.ProjectDir, o.Stack))
	if err != nil {
		return nil, err
	}
	if err := config.ParseOverrides(values, o.Set); err != nil {
		return nil, err
	}
	exp, err := config.Parse(values, infra.Source(names.Project, o.Stack, o.ProjectDir))
	if err != nil {
		return nil, err
	}
	return infra.Prepare(exp, names.Prefix(names.Project, o.Stack), o.backend)
}

// Run is `footprint run`: up, record, destroy; wave after wave where the
// backend's hosts cannot take every machine at once, each wave's results
// on disk before its machines are destroyed.
func Run(ctx context.Context, o Options) (Outcome, error) {
	o = withDefaults(o)
	lock, err := lockStack(o.ProjectDir, o.Stack, "footprint run", warner(o))
	if err != nil {
		return Outcome{}, err
	}
	defer lock.release()
	p, err := Validate(o)
	if err != nil {
		return Outcome{}, err
	}
	r, err := openRun(ctx, o, p, lock)
	if r == nil || err != nil {
		return r.outcome(), err
	}
	defer r.close()
	if err := r.start(ctx); err != nil {
		return r.outcome(), err
	}
	upErr, destroyErr := r.sched.drive(ctx, r.waves, &r.rec)
	return r.finish(ctx, upErr, destroyErr)
}

// Destroy is `footprint destroy`: removes what a kept run left.
func Destroy(ctx context.Context, o Options) error {
	o = withDefaults(o)
	lock, err := lockStack(o.ProjectDir, o.Stack, "footprint destroy", warner(o))
	if err != nil {
		return err
	}
	defer lock.release()
	p, err := prepareForTeardown(o)
	if err != nil {
		return err
	}
	stack, err := o.openStack(ctx, o)
	if err != nil {
		return err
	}
	if err := destroyWithRetries(ctx, locks{lock}, stack, p.Backend, p.Prefix, o.Out, logs.Printf(o.Log)); err != nil {
		return err
	}
	forget(p.Backend, p.Specs)
	return nil
}

// prepareForTeardown is the stack prepared, for removing what a run left;
// a stack file that no longer validates still gets the default backend,
// so that its leftovers can be found by name.
func prepareForTeardown(o Options) (*infra.Prepared, error) {
	p, err := Validate(o)
	if err == nil {
		return p, nil
	}
	prefix := names.Prefix(names.Project, o.Stack)
	b := o.backend
	if b == nil {
		o.Log.Warn(fmt.Sprintf("stack %s does not validate (%v); using backend %s with its defaults", o.Stack, err, infra.DefaultBackend))
		if b, err = infra.NewBackend(config.Experiment{}, prefix); err != nil {
			return nil, fmt.Errorf("backend %s with its defaults: %w", infra.DefaultBackend, err)
		}
	}
	return &infra.Prepared{Prefix: prefix, Backend: b}, nil
}

// forget removes what the host keeps of destroyed machines, where the
// backend keeps anything.
func forget(b machine.Backend, specs []machine.Spec) {
	if r, ok := b.(machine.Recorder); ok {
		r.Forget(specs)
	}
}

// warner says what the user must know but does not stop the command.
func warner(o Options) func(string) {
	return func(msg string) { o.Log.Warn(msg) }
}

func withDefaults(o Options) Options {
	if o.RunsDir == "" {
		o.RunsDir = filepath.Join(o.ProjectDir, "runs")
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Log == nil {
		o.Log = logs.New(o.Out)
	}
	if o.openStack == nil {
		o.openStack = openStack
	}
	return o
}
