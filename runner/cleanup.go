package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/libvirt"
	"github.com/footprint-dev/footprint/results"
)

// CleanupOptions say what to clean.
type CleanupOptions struct {
	Options
	All bool   // every footprint stack's objects, not just Stack's
	URI string // libvirt host; default: the stack's libvirtUri
}

// Cleanup is `footprint cleanup`: it removes what footprint left on a
// libvirt host, found by name, with or without Pulumi state, says what it
// removed, and forgets the removed objects in the stack's state.
func Cleanup(ctx context.Context, o CleanupOptions) ([]libvirt.Object, error) {
	o.Options = withDefaults(o.Options)
	uri := o.URI
	prefix := ""
	if !o.All {
		prefix = infra.Prefix(Project, o.Stack)
	}
	if uri == "" {
		uri = "qemu:///system"
		if exp, _, err := Validate(o.Options); err == nil {
			uri = exp.LibvirtURI
		}
	}
	removed, err := removeByName(ctx, libvirt.Host{URI: uri}, prefix, o.Out)
	if err != nil {
		return removed, err
	}
	if !o.All && len(removed) > 0 && stateExists(o.ProjectDir, o.Stack) {
		// The state still lists what is gone: a refresh drops it, so the next
		// run starts clean.
		if stack, err := openStack(ctx, o.Options, infra.New(infra.Options{Context: ctx, ProjectDir: o.ProjectDir})); err == nil {
			if _, err := stack.Refresh(ctx, optrefresh.ProgressStreams(io.Discard)); err != nil {
				fmt.Fprintf(o.Out, "footprint: the state of stack %s could not be refreshed: %s\n", o.Stack, lastLines(err.Error(), 2))
			}
		}
	}
	return removed, nil
}

func removeByName(ctx context.Context, h libvirt.Host, prefix string, out io.Writer) ([]libvirt.Object, error) {
	objs, err := h.Find(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("looking for footprint's objects on %s: %w", h.URI, err)
	}
	var removed []libvirt.Object
	var firstErr error
	for _, obj := range objs {
		if err := h.Remove(ctx, obj); err != nil {
			fmt.Fprintf(out, "footprint: could not remove %s: %v\n", obj, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		fmt.Fprintf(out, "footprint: removed %s\n", obj)
		removed = append(removed, obj)
		if obj.Kind == "domain" {
			if p := libvirt.ConsoleLogPath(h.URI, obj.Name); p != "" {
				os.Remove(p)
			}
		}
	}
	return removed, firstErr
}

func stateExists(projectDir, stack string) bool {
	_, err := os.Stat(filepath.Join(StateDir(projectDir), "work", stack))
	return err == nil
}

// destroyWithRetries tears a stack down, retrying with backoff (a libvirtd
// that restarts answers again after a few seconds); if Pulumi still cannot,
// the stack's objects are removed by name and the state refreshed, so that
// nothing is left either way.
func destroyWithRetries(ctx context.Context, stack auto.Stack, uri, prefix string, log io.Writer, say func(string, ...any)) error {
	var err error
	for _, wait := range []time.Duration{0, 5 * time.Second, 15 * time.Second, 30 * time.Second} {
		if wait > 0 {
			say("destroy failed (%s); retrying in %s", lastLines(err.Error(), 1), wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err = destroy(ctx, stack, log); err == nil {
			return nil
		}
	}
	say("destroy kept failing; removing the stack's objects by name")
	if _, cerr := removeByName(ctx, libvirt.Host{URI: uri}, prefix, log); cerr != nil {
		return fmt.Errorf("%w; cleanup by name also failed: %v", err, cerr)
	}
	if _, rerr := stack.Refresh(ctx, optrefresh.ProgressStreams(io.Discard)); rerr == nil {
		_ = destroy(ctx, stack, io.Discard)
	}
	return nil
}

// checkSubnet refuses a stack whose subnet overlaps a network the libvirt
// host already has, before anything is created, and says which.
func checkSubnet(ctx context.Context, exp config.Experiment, prefix string) error {
	nets, err := libvirt.Host{URI: exp.LibvirtURI}.Networks(ctx)
	if err != nil {
		return fmt.Errorf("cannot reach libvirt at %s: %w", exp.LibvirtURI, err)
	}
	if n, s, clash := libvirt.Overlapping(nets, exp.NetworkCIDR, libvirt.NetworkName(prefix)); clash {
		return fmt.Errorf("%s:%s: %s overlaps libvirt network %q (%s); choose another subnet",
			config.Namespace, config.KeyNetworkCIDR, exp.NetworkCIDR, n.Name, s)
	}
	return nil
}

// nodeWriter saves each node's result into the run folder as it arrives.
func nodeWriter(runDir string, say func(string, ...any)) func(results.Result) {
	dir := filepath.Join(runDir, "nodes")
	return func(r results.Result) {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			data, _ := json.MarshalIndent(r, "", "  ")
			tmp := filepath.Join(dir, r.Node+".json.tmp")
			if os.WriteFile(tmp, append(data, '\n'), 0o644) == nil && os.Rename(tmp, filepath.Join(dir, r.Node+".json")) == nil {
				return
			}
		}
		say("%s: could not save the result in %s", r.Node, dir)
	}
}
