// Command footprint measures what container runtimes and lightweight
// Kubernetes distributions cost in memory on small virtual machines.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/logs"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/runner"
	"github.com/footprint-dev/footprint/runner/progress"
)

// exitIncomplete is the status of a run that finished but where some node
// produced no ok result.
const exitIncomplete = 3

func main() {
	ctx, cancel := interruptible()
	defer cancel()
	err := root(ctx).ExecuteContext(ctx)
	var ex exitError
	switch {
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, "footprint:", ex.msg)
		}
		os.Exit(ex.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(1)
	}
}

type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// interruptible cancels the context on the first SIGINT, SIGTERM or SIGHUP
// (a closed terminal), so that the run tears down; a second one leaves at
// once and says what may be left. A reader of the output that went away
// (`footprint run | head`, a CI log pipe) must not kill a run before its
// teardown either: with SIGPIPE ignored, such writes only fail.
func interruptible() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	signal.Ignore(syscall.SIGPIPE)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "footprint: interrupted: tearing down (interrupt again to leave at once)")
		cancel()
		<-sig
		fmt.Fprintln(os.Stderr, "footprint: left before teardown finished; machines may remain: "+
			"run `footprint destroy --stack STACK` to remove them")
		os.Exit(130)
	}()
	return ctx, cancel
}

type globalFlags struct {
	projectDir string
	stack      string
}

func root(ctx context.Context) *cobra.Command {
	g := &globalFlags{}
	cmd := &cobra.Command{
		Use:           "footprint",
		Short:         "Measure the memory container runtimes and small Kubernetes distributions really use",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.PersistentFlags().StringVar(&g.projectDir, "project-dir", "", "folder holding Pulumi.yaml (default: found from the working directory up)")
	cmd.PersistentFlags().StringVarP(&g.stack, "stack", "s", "local", "stack to use: stacks/Pulumi.<stack>.yaml")
	cmd.AddCommand(runCmd(g), destroyCmd(g), cleanupCmd(g), validateCmd(g), planCmd(g), profilesCmd(), renderCmd(g), reportCmd(), compareCmd())
	cmd.AddCommand(artifactsCmd(g)) // artifacts_cmd.go
	return cmd
}

func (g *globalFlags) options(cmd *cobra.Command) (runner.Options, error) {
	dir := g.projectDir
	if dir == "" {
		var err error
		if dir, err = findProject(); err != nil {
			return runner.Options{}, err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return runner.Options{}, err
	}
	// The one logger of the invocation, passed down to the runner and the
	// backends.
	out := cmd.OutOrStdout()
	return runner.Options{ProjectDir: abs, Stack: g.stack, Out: out, Log: logs.New(out)}, nil
}

func findProject() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml here or above: run inside the footprint checkout or pass --project-dir")
		}
		dir = parent
	}
}

func runCmd(g *globalFlags) *cobra.Command {
	var keep, quiet, jsonOut bool
	var set []string
	var sshKey, resume string
	var only []string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Create the stack's machines, measure them, write a report, and destroy everything",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			o.Keep, o.Set, o.SSHKeyFile, o.Resume, o.Only = keep, set, sshKey, resume, only
			o.Progress = progressMode(quiet, jsonOut)
			out, err := runner.Run(cmd.Context(), o)
			if out.RunDir != "" && !jsonOut {
				o.Log.Info("report: " + filepath.Join(out.RunDir, "report.md"))
			}
			if err != nil {
				return err
			}
			if !out.AllOK {
				return exitError{code: exitIncomplete, msg: "not every node produced a result: see the report"}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "leave the machines running after the run (remove them with `footprint destroy`)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no progress, only the report's path and errors")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print progress as one JSON object per line, for scripts")
	cmd.MarkFlagsMutuallyExclusive("quiet", "json")
	cmd.Flags().StringVar(&sshKey, "ssh-key", "", "write the run's SSH private key to this file (mode 0600), for logging in to the nodes")
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a stack key for this run, as KEY=VALUE (repeatable)")
	cmd.Flags().StringSliceVar(&only, "only", nil, "create only these nodes of the stack (comma-separated), e.g. the cells a lost host did not finish")
	cmd.Flags().StringVar(&resume, "resume", "", "run only the nodes the run folder `RUN_DIR` lacks, into that folder")
	return cmd
}

func planCmd(g *globalFlags) *cobra.Command {
	var set []string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print the waves a run of the stack would take on its hosts, and an estimate, creating nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			o.Set = set
			text, err := runner.PlanText(cmd.Context(), o)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), text)
			return err
		},
	}
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a stack key, as KEY=VALUE (repeatable)")
	return cmd
}

// progressMode: a line per node redrawn in place on a terminal, plain lines
// in logs and CI.
func progressMode(quiet, jsonOut bool) progress.Mode {
	switch {
	case quiet:
		return progress.Quiet
	case jsonOut:
		return progress.JSON
	case term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("TERM") != "dumb":
		return progress.TTY
	}
	return progress.Plain
}

func destroyCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "destroy",
		Short: "Remove everything a kept run of the stack left",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			return runner.Destroy(cmd.Context(), o)
		},
	}
}

func cleanupCmd(g *globalFlags) *cobra.Command {
	var all bool
	var set []string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Find and remove anything footprint left where the stack's backend creates machines, even without Pulumi state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			o.Set = set
			removed, err := runner.Cleanup(cmd.Context(), runner.CleanupOptions{Options: o, All: all})
			what := "stack " + o.Stack
			if all {
				what = "any stack"
			}
			o.Log.Info(fmt.Sprintf("cleanup removed %d object(s) of %s", len(removed), what))
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove what every footprint stack left, not only --stack's")
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a stack key, as KEY=VALUE (repeatable), e.g. libvirt.uri=qemu+ssh://lab/system")
	return cmd
}

func validateCmd(g *globalFlags) *cobra.Command {
	var set []string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a stack's configuration without touching any backend",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			o.Set = set
			p, err := runner.Validate(o)
			if err != nil {
				return err
			}
			exp := p.Experiment
			fmt.Fprintf(cmd.OutOrStdout(), "stack %s is valid: %s, %d vCPU, %s, %s\n",
				o.Stack, nodesText(exp), exp.VCPUs, sizesText(exp), runner.BackendText(p))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a stack key, as KEY=VALUE (repeatable)")
	return cmd
}

// nodesText is how many nodes the stack has: for a search, the systems it
// searches, whose nodes are known only as it goes.
func nodesText(exp config.Experiment) string {
	if exp.Search != nil {
		return fmt.Sprintf("a search of %d system(s) %v", len(exp.Profiles), exp.Profiles)
	}
	return fmt.Sprintf("%d node(s) %v", exp.NodeCount(), exp.Profiles)
}

// sizesText is the VM size, or the sizes a search may try.
func sizesText(exp config.Experiment) string {
	if s := exp.Search; s != nil {
		return fmt.Sprintf("%d–%d MiB in steps of %d MiB (%d sizes, each tried %d time(s))", s.MinMiB, s.MaxMiB, s.ResolutionMiB, len(exp.Sizes()), s.Repeats)
	}
	return fmt.Sprintf("%d MiB", exp.MemoryMiB)
}

func profilesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "profiles",
		Short: "List the systems footprint can measure, with their default versions and the options a variant may choose",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tDEFAULT VERSION\tOPTIONS\tDESCRIPTION")
			if err := profiles.LoadError(); err != nil {
				return err
			}
			for _, name := range profiles.All() {
				p, _ := profiles.Get(name)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, orDash(p.DefaultVersion), orDash(strings.Join(profiles.OptionNames(name), ",")), p.Description)
			}
			// Built-in variants, under the names users know (the seed's microk8s-noha).
			for _, name := range profiles.Names() {
				if v, ok := profiles.VariantOf(name); ok {
					p, _ := profiles.Get(name)
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, orDash(p.DefaultVersion),
						"variant of "+v.VariantOf+": "+strings.Join(v.Options, ","), v.Description)
				}
			}
			return w.Flush()
		},
	}
}

func renderCmd(g *globalFlags) *cobra.Command {
	var node string
	var set []string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the cloud-init user-data a node of the stack would get (secrets masked)",
		Long: "Print the cloud-init user-data a node of the stack would get, secrets masked, on stdout and\n" +
			"nothing else (which node it is goes to stderr), so that\n" +
			"  footprint render --node k3s > user-data && cloud-init schema --config-file user-data\n" +
			"checks exactly what the node boots with.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			o.Set = set
			about, userData, err := runner.Render(o, node)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "# "+about)
			_, err = fmt.Fprint(cmd.OutOrStdout(), userData)
			return err
		},
	}
	cmd.Flags().StringVar(&node, "node", "", "node to render (default: the stack's first)")
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a stack key, as KEY=VALUE (repeatable)")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
