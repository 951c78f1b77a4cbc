// Package infra is footprint's Pulumi program: configuration in, machines
// created by a backend, each node's measured result collected and exported
// as a stack output. The same program runs under `pulumi up` (main.go) and
// inline under the runner.
package infra

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/collect"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/results"
)

// Output names of the stack.
const (
	OutputResults    = "results"
	OutputExperiment = "experiment"
	// OutputSSHKey is the run's private key, a secret output.
	OutputSSHKey = "sshPrivateKey"
)

// CollectFunc fetches one node's result; tests replace it.
type CollectFunc func(ctx context.Context, t collect.Target, o collect.Options) (results.Result, error)

// Options wire the program to its surroundings; the zero value is what
// `pulumi up` gets.
type Options struct {
	// Stack is the stack the runner prepared; nil under plain `pulumi up`,
	// where the program prepares it from the stack's Pulumi configuration.
	Stack *Prepared
	// Nodes are the specs this up creates, each on its host (a wave); nil
	// for every node of the stack.
	Nodes []machine.Spec
	// Secrets are the run's; under plain `pulumi up`, the stack's Pulumi
	// secrets.
	Secrets config.Secrets
	// Image is the stack's image as the runner resolved it; zero, and the
	// program resolves it, under plain `pulumi up`.
	Image      image.Resolved
	Collect    CollectFunc
	Context    context.Context // cancelled when the runner is interrupted
	ProjectDir string          // anchors relative paths; default: working directory
	ImageCache string
	// Progress is told each new console line of a node.
	Progress func(node, line string)
	// OnResult is told each node's result the moment it is collected, so
	// that nothing measured waits for the slowest node to be kept.
	OnResult func(results.Result)
}

// Program is the program as `pulumi up` runs it.
func Program(ctx *pulumi.Context) error { return New(Options{})(ctx) }

// New returns the program with its dependencies set.
func New(o Options) pulumi.RunFunc {
	if o.Collect == nil {
		o.Collect = collect.Collect
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	if o.ImageCache == "" {
		o.ImageCache = image.CacheDir()
	}
	return func(ctx *pulumi.Context) error {
		run := o
		if run.Stack == nil {
			var err error
			if run.Stack, run.Secrets, err = prepareFromConfig(ctx, o.ProjectDir); err != nil {
				return err
			}
		}
		return provision(ctx, run)
	}
}

// prepareFromConfig is the stack and its secrets as plain `pulumi up`
// gives them: from the stack's Pulumi configuration.
func prepareFromConfig(ctx *pulumi.Context, projectDir string) (*Prepared, config.Secrets, error) {
	exp, secrets, err := LoadConfig(ctx, projectDir)
	if err != nil {
		return nil, config.Secrets{}, err
	}
	if err := exp.CheckSearchNodes(); err != nil {
		return nil, config.Secrets{}, err
	}
	if secrets.WorkloadPassword == "" && needsWorkloadPassword(exp) {
		return nil, config.Secrets{}, fmt.Errorf("%s:%s: not set, and a profile deploys MySQL: "+
			"pulumi config set --secret %s:%s \"$(openssl rand -hex 16)\" (footprint run sets one per run)",
			config.Namespace, config.KeyMySQLPassword, config.Namespace, config.KeyMySQLPassword)
	}
	p, err := Prepare(exp, names.Prefix(ctx.Project(), ctx.Stack()), nil)
	return p, secrets, err
}

// provision creates the nodes of o (a wave of its stack), each with its
// user-data rendered now, and collects what each measured.
func provision(ctx *pulumi.Context, o Options) error {
	p, exp := o.Stack, o.Stack.Experiment
	specs := o.Nodes
	if specs == nil {
		specs = p.Specs
	}
	img := o.Image
	if p.LocalImage() && img.Path == "" {
		var err error
		if img, err = image.Resolve(o.Context, exp.Image, exp.ImageSHA256, o.ImageCache); err != nil {
			return err
		}
	}
	specs, err := Render(exp, specs, o.Secrets)
	if err != nil {
		return err
	}
	if err := attachArtifacts(exp, specs, artifacts.CacheDir()); err != nil {
		return err
	}
	route, err := newCollector(exp, o.Secrets, p.Backend)
	if err != nil {
		return err
	}
	env := p.Environment(img)
	machines, err := p.Backend.Provision(ctx, env, specs)
	if err != nil {
		return err
	}
	out := pulumi.Map{}
	for _, m := range machines {
		out[m.Spec.Node] = collectOutput(ctx, o, exp, img, route, p.Backend.Name(), m)
	}
	ctx.Export(OutputResults, out)
	if o.Secrets.SSHPrivateKey != "" {
		ctx.Export(OutputSSHKey, pulumi.ToSecret(pulumi.String(o.Secrets.SSHPrivateKey)))
	}
	ctx.Export(OutputExperiment, pulumi.ToMap(p.Record(img)))
	return nil
}

// collectOutput waits for the node's agent once its machine exists. A node
// that never reports still yields an output (status timeout) so that the
// other nodes' results, and the reason, are never lost.
func collectOutput(ctx *pulumi.Context, o Options, exp config.Experiment, img image.Resolved, route collector, backend string, m machine.Machine) pulumi.Output {
	return pulumi.All(m.Created, m.Reach).ApplyT(func(v []any) (map[string]any, error) {
		if ctx.DryRun() {
			return nil, nil
		}
		opts := collect.DefaultOptions(exp.CollectDeadline)
		// The runner prints progress itself; under plain `pulumi up` it goes
		// to Pulumi's diagnostics.
		opts.Progress = o.Progress
		if opts.Progress == nil {
			opts.Progress = func(_, line string) {
				_ = ctx.Log.Info(line, &pulumi.LogArgs{Resource: m.Component, Ephemeral: true})
			}
		}
		target := route.target(m, v[1].(string))
		if target.SSH != nil {
			opts = opts.ForSSH()
		}
		stopHost := watchHost(o.Context, m)
		r, err := o.Collect(o.Context, target, opts)
		hostView := stopHost()
		if err != nil {
			_ = ctx.Log.Warn(err.Error(), &pulumi.LogArgs{Resource: m.Component})
			// Where the console log is readable, keep what the agent said there
			// and the console's last lines.
			if r.Collection != nil {
				r.Collection.ConsoleTail = results.ConsoleTail(m.ConsoleLog, 30)
			}
			if fromConsole, ok := results.FromConsole(m.ConsoleLog, m.Spec.Node); ok {
				fromConsole.Collection = r.Collection
				r = fromConsole
			}
		}
		r.Node = m.Spec.Node
		r.Profile = m.Spec.Profile
		r.Variant = variantRecord(m.Spec)
		r.HostView = hostView
		r.Machine = &results.Machine{
			Name: m.Spec.Name, Address: m.Spec.Address.String(), VCPUs: m.Spec.VCPUs, MemoryMiB: m.Spec.MemoryMiB, Repeat: m.Spec.Repeat, DiskGiB: m.Spec.DiskGiB,
			Backend: backend, DomainType: m.VirtType, Hypervisor: m.Hypervisor, Image: cmp.Or(img.Ref, m.Facts[results.FactImage]), ImageSHA256: img.SHA256,
			Region: m.Facts[results.FactRegion], InstanceType: m.Facts[results.FactInstanceType], ImageID: m.Facts[results.FactImageID],
		}
		if o.OnResult != nil {
			o.OnResult(r)
		}
		if s, ok := r.Summarize(results.PhaseIdle); ok {
			_ = ctx.Log.Info(fmt.Sprintf("%s: used %.0f MiB of %.0f MiB", m.Spec.Node, s.UsedMiB, s.MemTotalMiB),
				&pulumi.LogArgs{Resource: m.Component})
		}
		return toMap(r)
	})
}

func needsWorkloadPassword(exp config.Experiment) bool {
	for _, name := range exp.Profiles {
		if p, ok := profiles.Get(exp.ProfileOf(name)); ok && p.Hooks[profiles.HookWorkload] != "" {
			return true
		}
	}
	return false
}

// toMap turns a result into plain values a stack output can hold.
func toMap(r results.Result) (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// LoadConfig reads and validates the footprint namespace of the stack, and
// the run's secrets in it.
func LoadConfig(ctx *pulumi.Context, projectDir string) (config.Experiment, config.Secrets, error) {
	values := map[string]string{}
	if projectDir == "" {
		projectDir, _ = os.Getwd()
	}
	src := Source(ctx.Project(), ctx.Stack(), projectDir)
	for _, k := range src.KnownKeys() {
		if v, ok := ctx.GetConfig(config.Namespace + ":" + k); ok {
			values[k] = v
		}
	}
	// Under `pulumi up` the CLI hands the whole configuration over in
	// PULUMI_CONFIG, which also shows keys this program does not know: typos.
	if raw := os.Getenv("PULUMI_CONFIG"); raw != "" {
		var all map[string]string
		if json.Unmarshal([]byte(raw), &all) == nil {
			for k, v := range all {
				if ns, key, ok := strings.Cut(k, ":"); ok && ns == config.Namespace {
					values[key] = v
				}
			}
		}
	}
	if err := profiles.LoadError(); err != nil {
		return config.Experiment{}, config.Secrets{}, err
	}
	exp, err := config.Parse(values, src)
	if err != nil {
		return config.Experiment{}, config.Secrets{}, err
	}
	secrets, err := config.ParseSecrets(values)
	return exp, secrets, err
}

// Source is the configuration context of a stack.
func Source(project, stack, projectDir string) config.Source {
	return config.Source{
		Project: project, Stack: stack, ProjectDir: projectDir,
		ProfileExists: profiles.Exists, ProfileOptions: profiles.OptionNames, BuiltinVariant: builtinVariant,
		ProfileHooks:    profileHooks,
		DefaultProfiles: profiles.Names(), Backends: BackendNames(), DefaultBackend: DefaultBackend,
	}
}

// profileHooks are the hooks a profile has, the shared ones too: the phases
// its agent runs (a blank hook is not written into its script).
func profileHooks(name string) []string {
	p, _ := profiles.Get(name)
	var hooks []string
	for h, body := range p.Hooks {
		if strings.TrimSpace(body) != "" {
			hooks = append(hooks, h)
		}
	}
	return hooks
}

// builtinVariant is a built-in variant of the profiles registry as the
// configuration plans it.
func builtinVariant(name string) (config.Variant, bool) {
	v, ok := profiles.VariantOf(name)
	return config.Variant{Profile: v.VariantOf, Options: v.Options}, ok
}

// attachArtifacts gives every node of a profile with an offline install the
// read-only disk made from that profile's artifacts folder.
func attachArtifacts(exp config.Experiment, specs []machine.Spec, cacheDir string) error {
	disks := map[string]string{}
	for profile, dir := range exp.Artifacts {
		disk, err := artifacts.Disk(dir, cacheDir)
		if err != nil {
			return fmt.Errorf("%s:%s: %s: %w", config.Namespace, config.KeyArtifacts, profile, err)
		}
		disks[profile] = disk
	}
	for i := range specs {
		specs[i].Artifacts = disks[specs[i].Profile]
	}
	return nil
}

// variantRecord is what a result records of the variant a node measured:
// its name and each chosen option with the settings it made.
func variantRecord(s machine.Spec) *results.Variant {
	if s.Variant == "" {
		return nil
	}
	p, _ := profiles.Get(s.Profile)
	v := &results.Variant{Name: s.Variant}
	for _, o := range s.Options {
		v.Options = append(v.Options, results.VariantOption{Name: o, Env: p.Options[o].Env})
	}
	return v
}
