// Package runner drives a stack from the command line: it validates the
// stack, runs the program inline through Pulumi's Automation API against a
// local state backend, writes what was measured into runs/<run-id>/ before
// anything is torn down, and then destroys the stack, also after an error or
// an interrupt.
package runner

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"golang.org/x/crypto/ssh"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/internal/redact"
	"github.com/footprint-dev/footprint/logs"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/report"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/runner/progress"
)

// Options of one invocation.
type Options struct {
	ProjectDir string   // the checkout: Pulumi.yaml, stacks/
	Stack      string   // stack name: stacks/Pulumi.<stack>.yaml
	Set        []string // KEY=VALUE overrides of the stack file
	Keep       bool     // leave the machines running
	RunsDir    string   // default: <ProjectDir>/runs
	Out        io.Writer
	// Log is where everything the user must read goes, passed down to the
	// backend; default: logs.New(Out). During a run it goes through the
	// progress display.
	Log *slog.Logger
	// SSHKeyFile, when set, receives the run's private key (mode 0600);
	// otherwise it exists only as a secret in the encrypted state.
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
	openStack func(ctx context.Context, o Options, program pulumi.RunFunc) (Stack, error)
	// onProgram is shown the program's options, for a fake stack to hand
	// results to OnResult as the program does.
	onProgram func(infra.Options)
}

// Stack is what the runner asks of a Pulumi stack (auto.Stack has it).
type Stack interface {
	Up(ctx context.Context, opts ...optup.Option) (auto.UpResult, error)
	Destroy(ctx context.Context, opts ...optdestroy.Option) (auto.DestroyResult, error)
	Refresh(ctx context.Context, opts ...optrefresh.Option) (auto.RefreshResult, error)
	Outputs(ctx context.Context) (auto.OutputMap, error)
	GetAllConfig(ctx context.Context) (auto.ConfigMap, error)
	SetAllConfig(ctx context.Context, config auto.ConfigMap) error
	RemoveAllConfig(ctx context.Context, keys []string) error
	Export(ctx context.Context) (apitype.UntypedDeployment, error)
	Import(ctx context.Context, state apitype.UntypedDeployment) error
}

// Outcome is what a run produced.
type Outcome struct {
	RunDir string
	Run    report.Run
	AllOK  bool // every node produced a result with status ok
}

// Validate reads and checks a stack without touching libvirt or Pulumi.
func Validate(o Options) (config.Experiment, map[string]string, error) {
	if err := profiles.LoadError(); err != nil {
		return config.Experiment{}, nil, err
	}
	values, err := config.ReadStackFile(config.StackFile(o.ProjectDir, o.Stack))
	if err != nil {
		return config.Experiment{}, nil, err
	}
	if err := config.ParseOverrides(values, o.Set); err != nil {
		return config.Experiment{}, nil, err
	}
	exp, err := config.Parse(values, infra.Source(names.Project, o.Stack, o.ProjectDir))
	if err != nil {
		return config.Experiment{}, nil, err
	}
	specs, _, err := planWithStandIns(exp, o)
	if err != nil {
		return config.Experiment{}, nil, err
	}
	b, err := infra.NewBackend(exp, names.Prefix(names.Project, o.Stack))
	if err != nil {
		return config.Experiment{}, nil, err
	}
	if c, ok := b.(machine.SpecChecker); ok {
		if err := c.CheckSpecs(specs); err != nil {
			return config.Experiment{}, nil, err
		}
	}
	// Pre-flight of footprint:artifacts (issue 9): every folder matches its
	// SHA256SUMS and holds what its profile declares.
	if err := artifacts.Check(exp); err != nil {
		return config.Experiment{}, nil, err
	}
	return exp, values, nil
}

// planWithStandIns plans the stack with stand-ins for the run's secrets, of
// their real size, so that what is checked of a node's user-data is what a
// run would give it.
func planWithStandIns(exp config.Experiment, o Options) ([]machine.Spec, runSecrets, error) {
	secrets, err := newRunSecrets("stand-in")
	if err != nil {
		return nil, runSecrets{}, err
	}
	src := infra.Source(names.Project, o.Stack, o.ProjectDir)
	for k, v := range secrets.byKey() {
		if err := exp.Set(k, v, src); err != nil {
			return nil, runSecrets{}, err
		}
	}
	specs, err := infra.Plan(exp, names.Prefix(names.Project, o.Stack))
	return specs, secrets, err
}

// Where says, for `footprint validate`, which backend the stack runs on with
// its settings, and the image a local backend boots.
func Where(exp config.Experiment, stack string) string {
	b, err := infra.NewBackend(exp, names.Prefix(names.Project, stack))
	if err != nil {
		return "backend " + exp.Backend
	}
	d := b.Describe()
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + d[k]
	}
	w := fmt.Sprintf("backend %s (%s)", b.Name(), strings.Join(keys, ", "))
	if _, local := b.(machine.LocalImage); local {
		w += ", image " + redact.URL(exp.Image) // a signed or password URL is never printed
	}
	return w
}

// Render is `footprint render`: the user-data one node of the stack would
// get, exactly, with secrets masked, for review; and which node it is.
func Render(o Options, node string) (about, userData string, err error) {
	exp, _, err := Validate(o)
	if err != nil {
		return "", "", err
	}
	// Stand-ins for the run's secrets, masked below as real ones would be.
	specs, secrets, err := planWithStandIns(exp, o)
	if err != nil {
		return "", "", err
	}
	var names []string
	for _, s := range specs {
		if node == "" || s.Node == node {
			about = fmt.Sprintf("user-data of node %s (machine %s, address %s)", s.Node, s.Name, s.Address)
			return about, secrets.mask(s.CloudInit.UserData), nil
		}
		names = append(names, s.Node)
	}
	return "", "", fmt.Errorf("--node %s: the stack has no such node (it has: %s)", node, strings.Join(names, ", "))
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
	return run(ctx, o, lock)
}

// run is Run once it holds the stack's lock.
func run(ctx context.Context, o Options, lock *stackLock) (Outcome, error) {
	exp, values, err := Validate(o)
	if err != nil {
		return Outcome{}, err
	}
	if err := checkKeyFile(o.SSHKeyFile); err != nil {
		return Outcome{}, err
	}
	prefix := names.Prefix(names.Project, o.Stack)
	backend := o.backend
	if backend == nil {
		backend, _ = infra.NewBackend(exp, prefix) // validated above
	}
	// Fetch (or find in the cache) and check the image first: a host without
	// internet learns it here, in one line, before Pulumi or the backend is
	// asked for anything. The program finds it in the cache afterwards.
	if _, local := backend.(machine.LocalImage); local {
		if _, err := image.Resolve(ctx, exp.Image, exp.ImageSHA256, image.CacheDir()); err != nil {
			return Outcome{}, err
		}
	}
	if err := backend.Preflight(ctx, infra.Environment(exp, prefix)); err != nil {
		return Outcome{}, err
	}
	specs, _ := infra.Plan(exp, prefix) // validated above
	run, runDir, err := openRun(o)
	if err != nil {
		return Outcome{}, err
	}
	if err := lock.record(runDir); err != nil {
		o.Log.Warn(fmt.Sprintf("stack %s: the lock does not name the run folder: %v", o.Stack, err))
	}
	if err := readBackSaved(o, &run, runDir); err != nil {
		return Outcome{}, err
	}
	sched, err := newSchedule(ctx, o, exp, values, backend, specs, run)
	if err != nil {
		return Outcome{}, err
	}
	if why := sched.finished(run); why != "" {
		return Outcome{RunDir: runDir, Run: run, AllOK: sched.ok(run)}, fmt.Errorf("--resume %s: %s", runDir, why)
	}
	track := progress.New(o.Out, o.Progress, sched.nodes())
	defer logs.Divert(o.Log, track.Note)()
	say := logs.Printf(o.Log)
	pulumiLog, err := openPulumiLog(runDir, run.ID)
	if err != nil {
		return Outcome{}, err
	}
	defer pulumiLog.Close()
	stopTicks := ticker(track)
	defer stopTicks()
	say("run %s: stack %s, %s; results in %s; Pulumi's log in pulumi.log there", run.ID, o.Stack, sched.about(), runDir)

	folder := newRunFolder(runDir, say)
	programOptions := infra.Options{
		Backend:    backend,
		Context:    ctx,
		ProjectDir: o.ProjectDir,
		Progress:   track.Console,
		OnResult: func(r results.Result) {
			folder.saveResult(r)
			track.Result(r)
			if r.Collection != nil && r.Collection.Error != "" {
				say("node %s: %s; last console line: %s", r.Node, r.Collection.Error, r.Collection.LastConsoleLine)
			}
		},
	}
	if o.onProgram != nil {
		o.onProgram(programOptions)
	}
	program := infra.New(programOptions)
	out := Outcome{RunDir: runDir}
	stack, err := o.openStack(ctx, o, program)
	if err != nil {
		return out, err
	}
	secrets, err := newRunSecrets(run.ID)
	if err != nil {
		return out, err
	}
	if err := setConfig(ctx, stack, values, secrets); err != nil {
		return out, err
	}
	if o.SSHKeyFile != "" {
		if err := writeKeyFile(o.SSHKeyFile, []byte(secrets.sshPrivateKey)); err != nil {
			return out, err
		}
		say("the run's SSH private key is in %s (user: the image's default user)", o.SSHKeyFile)
	}

	held := locks{lock}
	if err := sweepLostHosts(ctx, held, backend, prefix, run.Lost, say); err != nil {
		return out, err
	}
	run.Lost = nil // removed: the hosts are back
	// The record is on disk before the first machine: a run killed outright
	// leaves a folder --resume reads back, nodes/ and all.
	run.NotRun = sched.notRun(run)
	sched.derive(&run)
	if err := report.Write(runDir, run); err != nil {
		say("writing %s: %v", runDir, err)
	}
	w := &waveRunner{o: o, stack: stack, backend: backend, prefix: prefix, runDir: runDir, log: pulumiLog, say: say, live: sched.hosts(),
		wavesBefore: lastWave(run.Nodes), held: held, folder: folder, derive: sched.derive}
	upErr, destroyErr := sched.drive(ctx, w, &run)
	run.NotRun = sched.notRun(run)
	sched.derive(&run)
	if len(run.NotRun) > 0 {
		say("not run: %s; run them with: footprint run --stack %s --resume %s", strings.Join(run.NotRun, ", "), o.Stack, runDir)
	}
	run.FinishedAt = time.Now().UTC()
	if err := report.Write(runDir, run); err != nil {
		return out, fmt.Errorf("writing %s: %w", runDir, err)
	}
	out.Run = run
	out.AllOK = upErr == nil && destroyErr == nil && sched.ok(run)
	switch {
	case destroyErr != nil:
		return out, fmt.Errorf("destroy of stack %s failed (run `footprint destroy --stack %s`): %w", o.Stack, o.Stack, destroyErr)
	case ctx.Err() != nil:
		return out, fmt.Errorf("interrupted; the stack was destroyed and what was measured is in %s", runDir)
	case upErr != nil:
		return out, fmt.Errorf("up of stack %s failed: %s", o.Stack, lastLines(upErr.Error(), 3))
	}
	return out, nil
}

// Destroy is `footprint destroy`: removes what a kept run left.
func Destroy(ctx context.Context, o Options) error {
	o = withDefaults(o)
	lock, err := lockStack(o.ProjectDir, o.Stack, "footprint destroy", warner(o))
	if err != nil {
		return err
	}
	defer lock.release()
	stack, err := o.openStack(ctx, o, infra.New(infra.Options{Context: ctx, ProjectDir: o.ProjectDir}))
	if err != nil {
		return err
	}
	backend, specs := stackBackend(o)
	if err := destroyWithRetries(ctx, locks{lock}, stack, backend, names.Prefix(names.Project, o.Stack), o.Out, logs.Printf(o.Log)); err != nil {
		return err
	}
	forget(backend, specs)
	return nil
}

// stackBackend is the backend of the stack and its machines, for removing
// what a run left; a stack file that no longer validates still gets the
// default backend, so that its leftovers can be found by name.
func stackBackend(o Options) (machine.Backend, []machine.Spec) {
	prefix := names.Prefix(names.Project, o.Stack)
	exp, _, err := Validate(o)
	if o.backend != nil {
		specs, _ := infra.Plan(exp, prefix)
		return o.backend, specs
	}
	if err != nil {
		o.Log.Warn(fmt.Sprintf("stack %s does not validate (%v); using backend %s with its defaults", o.Stack, err, infra.DefaultBackend))
		b, _ := infra.NewBackend(config.Experiment{}, prefix)
		return b, nil
	}
	b, _ := infra.NewBackend(exp, prefix)
	specs, _ := infra.Plan(exp, prefix)
	return b, specs
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

func destroy(ctx context.Context, stack Stack, out io.Writer) error {
	_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(out))
	return err
}

// StateDir holds the local Pulumi backend, workspaces and the generated
// passphrase: footprint needs no login and no cloud account.
func StateDir(projectDir string) string { return filepath.Join(projectDir, ".footprint") }

func openStack(ctx context.Context, o Options, program pulumi.RunFunc) (Stack, error) {
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
	stack, err := auto.UpsertStackInlineSource(ctx, o.Stack, names.Project, program,
		auto.WorkDir(work), auto.EnvVars(env), auto.Pulumi(cmd), auto.SecretsProvider("passphrase"))
	if err != nil {
		return nil, fmt.Errorf("opening stack %s: %s", o.Stack, lastLines(err.Error(), 3))
	}
	return &stack, nil
}

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

// runSecrets are made anew for every run and handed to Pulumi as secrets:
// the workload's password, and a key pair for debugging access to the nodes.
type runSecrets struct {
	mysqlPassword string
	sshPrivateKey string
	// sshHostKey is the guests' host key, which the SSH collector pins.
	sshHostKey string
}

func newRunSecrets(runID string) (runSecrets, error) {
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return runSecrets{}, err
	}
	client, err := newKey("footprint run " + runID)
	if err != nil {
		return runSecrets{}, err
	}
	host, err := newKey("footprint guest host key " + runID)
	if err != nil {
		return runSecrets{}, err
	}
	return runSecrets{mysqlPassword: hex.EncodeToString(buf), sshPrivateKey: client, sshHostKey: host}, nil
}

// byKey are the secrets by their configuration key.
func (s runSecrets) byKey() map[string]string {
	return map[string]string{
		config.KeyMySQLPassword: s.mysqlPassword,
		config.KeySSHPrivateKey: s.sshPrivateKey,
		config.KeySSHHostKey:    s.sshHostKey,
	}
}

// mask hides in text every secret a guest is given: the password, and each
// line of the host key's body, wherever YAML indented it.
func (s runSecrets) mask(text string) string {
	text = strings.ReplaceAll(text, s.mysqlPassword, guest.MaskedSecret)
	for _, line := range strings.Split(s.sshHostKey, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "-----") {
			text = strings.ReplaceAll(text, line, guest.MaskedSecret)
		}
	}
	return text
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

// secretKeys are set by the runner for each run, never from a stack file.
var secretKeys = map[string]bool{config.KeyMySQLPassword: true, config.KeySSHPrivateKey: true, config.KeySSHHostKey: true}

func setConfig(ctx context.Context, stack Stack, values map[string]string, secrets runSecrets) error {
	current, err := stack.GetAllConfig(ctx)
	if err != nil {
		return fmt.Errorf("reading stack configuration: %w", err)
	}
	// A key removed from the stack file must not linger from an earlier run.
	var stale []string
	for k := range current {
		if ns, key, ok := strings.Cut(k, ":"); ok && ns == config.Namespace {
			if _, keep := values[key]; !keep && !secretKeys[key] {
				stale = append(stale, k)
			}
		}
	}
	if len(stale) > 0 {
		if err := stack.RemoveAllConfig(ctx, stale); err != nil {
			return err
		}
	}
	cm := auto.ConfigMap{}
	for k, v := range secrets.byKey() {
		cm[config.Namespace+":"+k] = auto.ConfigValue{Value: v, Secret: true}
	}
	for k, v := range values {
		if secretKeys[k] {
			continue // a stack file never holds them; each run gets its own
		}
		cm[config.Namespace+":"+k] = auto.ConfigValue{Value: v}
	}
	return stack.SetAllConfig(ctx, cm)
}

func readOutputs(ctx context.Context, stack Stack, say func(string, ...any)) ([]results.Result, map[string]any) {
	outputs, err := stack.Outputs(ctx)
	if err != nil {
		say("cannot read stack outputs: %v", err)
		return nil, nil
	}
	var nodes []results.Result
	if v, ok := outputs[infra.OutputResults].Value.(map[string]any); ok {
		for name, raw := range v {
			r, err := fromOutput(raw)
			if err != nil {
				say("output of node %s is unreadable: %v", name, err)
				continue
			}
			nodes = append(nodes, r)
		}
	}
	exp, _ := outputs[infra.OutputExperiment].Value.(map[string]any)
	return nodes, exp
}

func fromOutput(v any) (results.Result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return results.Result{}, err
	}
	var r results.Result
	return r, json.Unmarshal(b, &r)
}

// accountForEveryNode keeps a record for every planned node, even one that
// produced no output at all, and saves into the run folder what the backend
// kept of each machine: its console, its virtual hardware.
func accountForEveryNode(ctx context.Context, nodes []results.Result, specs []machine.Spec, b machine.Backend, folder *runFolder) []results.Result {
	byNode := map[string]int{}
	for i, r := range nodes {
		byNode[r.Node] = i
	}
	rec, _ := b.(machine.Recorder)
	for _, s := range specs {
		saved := ""
		if rec != nil {
			saved = folder.record(ctx, rec, s)
		}
		i, ok := byNode[s.Node]
		if !ok {
			nodes = append(nodes, results.Result{Node: s.Node, Profile: s.Profile,
				Machine:    &results.Machine{Name: s.Name, Address: s.Address.String(), VCPUs: s.VCPUs, MemoryMiB: s.MemoryMiB, Repeat: s.Repeat, DiskGiB: s.DiskGiB, Backend: b.Name()},
				Collection: &results.Collect{Error: "the stack produced no output for this node"}})
			i = len(nodes) - 1
		}
		if saved != "" {
			if nodes[i].Collection == nil {
				nodes[i].Collection = &results.Collect{}
			}
			nodes[i].Collection.LastConsoleLine = results.LastConsoleLine(saved)
			if nodes[i].Status != results.StatusOK && len(nodes[i].Collection.ConsoleTail) == 0 {
				nodes[i].Collection.ConsoleTail = results.ConsoleTail(saved, 30)
			}
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Node < nodes[j].Node })
	return nodes
}

func allOK(nodes []results.Result) bool {
	if len(nodes) == 0 {
		return false
	}
	for _, r := range nodes {
		if r.Status != results.StatusOK {
			return false
		}
	}
	return true
}

func newRunDir(runsDir, stack string) (string, string, error) {
	base := time.Now().UTC().Format("20060102T150405Z") + "-" + stack
	if err := os.MkdirAll(runsDir, 0o755); err != nil {
		return "", "", err
	}
	for i := 1; ; i++ {
		id := base
		if i > 1 {
			id = fmt.Sprintf("%s-%d", base, i)
		}
		dir := filepath.Join(runsDir, id)
		err := os.Mkdir(dir, report.DirMode) // it holds every guest's console and the hosts' names
		if err == nil {
			return id, dir, nil
		}
		if !os.IsExist(err) {
			return "", "", err
		}
	}
}

// ticker redraws a terminal's node lines every second until stopped.
func ticker(t *progress.Tracker) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.Tick()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// lastLines keeps the end of Pulumi's long error texts, where the cause is.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
