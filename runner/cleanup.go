package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/logs"
	"github.com/footprint-dev/footprint/names"
)

// CleanupOptions say what to clean.
type CleanupOptions struct {
	Options
	All bool // every footprint stack's objects, not just Stack's
}

// Cleanup is `footprint cleanup`: it removes what footprint left where the
// stack's backend creates machines, found by name or tag, with or without
// Pulumi state, says what it removed, and forgets the removed objects in
// the stack's state. Options.Set picks another host or backend
// (libvirt.uri=qemu+ssh://lab/system).
func Cleanup(ctx context.Context, o CleanupOptions) ([]string, error) {
	o.Options = withDefaults(o.Options)
	prefix := ""
	if !o.All {
		prefix = names.Prefix(names.Project, o.Stack)
	}
	held, err := lockCleanup(o)
	if err != nil {
		return nil, err
	}
	defer held.release()
	p, err := prepareForTeardown(o.Options)
	if err != nil {
		return nil, err
	}
	removed, err := held.sweep(ctx, p.Backend, prefix, logs.Printf(o.Log))
	if err != nil {
		return removed, err
	}
	if !o.All && len(removed) > 0 && stateExists(o.ProjectDir, o.Stack) {
		// The state still lists what is gone: a refresh drops it, so the next
		// run starts clean.
		if stack, err := o.openStack(ctx, o.Options); err == nil {
			if _, err := stack.Refresh(ctx, optrefresh.ProgressStreams(io.Discard)); err != nil {
				o.Log.Warn(fmt.Sprintf("the state of stack %s could not be refreshed: %s", o.Stack, tail(err.Error(), 2)))
			}
		}
	}
	return removed, nil
}

// lockCleanup takes the stack's lock, or with --all every known stack's:
// a sweep must not remove a live run's machines.
func lockCleanup(o CleanupOptions) (locks, error) {
	if o.All {
		return lockStacks(o.ProjectDir, knownStacks(o.ProjectDir), "footprint cleanup --all", warner(o.Options))
	}
	l, err := lockStack(o.ProjectDir, o.Stack, "footprint cleanup", warner(o.Options))
	if err != nil {
		return nil, err
	}
	return locks{l}, nil
}

func stateExists(projectDir, stack string) bool {
	_, err := os.Stat(filepath.Join(StateDir(projectDir), "work", stack))
	return err == nil
}

// destroyWaits are the pauses before each attempt to destroy a stack.
var destroyWaits = []time.Duration{0, 5 * time.Second, 15 * time.Second, 30 * time.Second}

// destroyWithRetries tears a stack down, retrying with backoff (a libvirtd
// that restarts answers again after a few seconds); if Pulumi still cannot,
// the stack's objects are removed by name and the state refreshed, so that
// nothing is left either way.
func destroyWithRetries(ctx context.Context, held locks, stack Stack, backend machine.Backend, prefix string, log io.Writer, say func(string, ...any)) error {
	err := retryDestroy(ctx, stack, log, say)
	if err == nil {
		return nil
	}
	return sweepInstead(ctx, held, stack, backend, prefix, say, err)
}

// retryDestroy is Pulumi's destroy, attempted after each of destroyWaits.
func retryDestroy(ctx context.Context, stack Stack, log io.Writer, say func(string, ...any)) error {
	var err error
	why := ""
	for _, wait := range destroyWaits {
		if wait > 0 {
			say("destroy failed (%s); retrying in %s", why, wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		from := logSize(log)
		if err = destroy(ctx, stack, log); err == nil {
			return nil
		}
		why = failure(err, log, from)
	}
	return err
}

// logFile is the path of Pulumi's log where it is a regular file (a run's
// pulumi.log), "" where it is a terminal or a pipe, which cannot be read
// back.
func logFile(log io.Writer) string {
	if f, ok := log.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			return f.Name()
		}
	}
	return ""
}

// logSize is how much Pulumi's log file holds so far.
func logSize(log io.Writer) int64 {
	if info, err := os.Stat(logFile(log)); err == nil {
		return info.Size()
	}
	return 0
}

// failure is why a Pulumi command failed: the error it wrote to its log
// file after from, the CLI's own error ending in its empty stderr otherwise.
func failure(err error, log io.Writer, from int64) string {
	if path := logFile(log); path != "" {
		if d := diagnosticsFrom(path, from, 1); len(d) > 0 {
			return d[0]
		}
	}
	return tail(err.Error(), 1)
}

// sweepInstead removes the stack's objects by name where Pulumi could not
// destroy them (err), then lets Pulumi's state catch up.
func sweepInstead(ctx context.Context, held locks, stack Stack, backend machine.Backend, prefix string, say func(string, ...any), err error) error {
	say("destroy kept failing; sweeping the stack's objects from backend %s", backend.Name())
	if _, cerr := held.sweep(ctx, backend, prefix, say); cerr != nil {
		return fmt.Errorf("%w; cleanup by name also failed: %w", err, cerr)
	}
	if _, rerr := stack.Refresh(ctx, optrefresh.ProgressStreams(io.Discard)); rerr == nil {
		_ = destroy(ctx, stack, io.Discard)
	}
	return nil
}
