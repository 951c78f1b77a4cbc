package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/waves"
)

// A host lost mid-run loses only its own cells: when a wave cannot be
// destroyed and some of its hosts no longer answer, the run forgets what
// the stack has on them, destroys the rest, and goes on with the hosts
// that answer. The lost hosts' objects stay on them until they are back;
// `--resume` removes them first, as `footprint cleanup` would.

// lostHosts are the hosts among placed that do not answer now.
func lostHosts(ctx context.Context, hl machine.HostLoss, placed []string) map[string]error {
	lost := map[string]error{}
	for _, h := range placed {
		if err := hl.Answers(ctx, h); err != nil {
			lost[h] = err
		}
	}
	return lost
}

// planHosts are the hosts a plan places cells on, sorted.
func planHosts(plan waves.Plan) []string {
	var out []string
	for _, w := range plan.Waves {
		if w.Host != "" && !slices.Contains(out, w.Host) {
			out = append(out, w.Host)
		}
	}
	slices.Sort(out)
	return out
}

// distinctHosts are the hosts of a placement, sorted.
func distinctHosts(placement map[string]string) []string {
	var out []string
	for _, h := range placement {
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// forgetHosts removes from the stack's state every resource on the lost
// hosts: each host's root (its provider) and whatever has it as provider,
// parent or dependency. It returns the URNs it dropped.
func forgetHosts(ctx context.Context, stack Stack, hl machine.HostLoss, lost []string) ([]string, error) {
	exported, err := stack.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the stack's state: %w", err)
	}
	var d apitype.DeploymentV3
	if err := json.Unmarshal(exported.Deployment, &d); err != nil {
		return nil, fmt.Errorf("reading the stack's state: %w", err)
	}
	gone := map[resource.URN]bool{}
	for _, r := range d.Resources {
		for _, h := range lost {
			if hl.Holds(h, r) {
				gone[r.URN] = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, r := range d.Resources {
			if !gone[r.URN] && dependsOnAny(r, gone) {
				gone[r.URN], changed = true, true
			}
		}
	}
	var keep []apitype.ResourceV3
	var dropped []string
	for _, r := range d.Resources {
		if gone[r.URN] {
			dropped = append(dropped, string(r.URN))
		} else {
			keep = append(keep, r)
		}
	}
	if len(dropped) == 0 {
		return nil, nil
	}
	d.Resources = keep
	var ops []apitype.OperationV2
	for _, op := range d.PendingOperations {
		if !gone[op.Resource.URN] {
			ops = append(ops, op)
		}
	}
	d.PendingOperations = ops
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	exported.Deployment = raw
	if err := stack.Import(ctx, exported); err != nil {
		return nil, fmt.Errorf("writing the stack's state without hosts %s: %w", strings.Join(lost, ", "), err)
	}
	return dropped, nil
}

// dependsOnAny reports whether r has one of the gone resources as its
// provider, parent, dependency or deleted-with.
func dependsOnAny(r apitype.ResourceV3, gone map[resource.URN]bool) bool {
	if r.Provider != "" {
		if ref, err := providerURN(r.Provider); err == nil && gone[ref] {
			return true
		}
	}
	if gone[r.Parent] || gone[r.DeletedWith] {
		return true
	}
	for _, u := range r.Dependencies {
		if gone[u] {
			return true
		}
	}
	for _, us := range r.PropertyDependencies {
		for _, u := range us {
			if gone[u] {
				return true
			}
		}
	}
	return false
}

// providerURN is the URN of a provider reference "URN::ID".
func providerURN(ref string) (resource.URN, error) {
	i := strings.LastIndex(ref, "::")
	if i <= 0 {
		return "", fmt.Errorf("provider reference %q", ref)
	}
	return resource.URN(ref[:i]), nil
}

// sweepLostHosts is the first step of a resume after a lost host: what the
// earlier run left on each lost host is removed, each object named, before
// anything is created there again.
func sweepLostHosts(ctx context.Context, held locks, b machine.Backend, prefix string, prev []record.LostHost, say func(string, ...any)) error {
	if len(prev) == 0 {
		return nil
	}
	var hosts, where []string
	for _, l := range prev {
		hosts = append(hosts, l.Host)
		where = append(where, fmt.Sprintf("%s (lost in wave %d)", l.Host, l.Wave))
	}
	hl, ok := b.(machine.HostLoss)
	if !ok {
		// Not skipped: the resume would drop the record of the leftovers.
		return fmt.Errorf("--resume: the earlier run lost %s, and backend %s cannot remove what it left there; the run's record keeps them",
			strings.Join(where, ", "), b.Name())
	}
	say("--resume: removing what the earlier run left on %s", strings.Join(where, ", "))
	if _, err := held.sweep(ctx, hl.Only(hosts), prefix, say); err != nil {
		return fmt.Errorf("--resume: removing what the lost hosts kept: %w", err)
	}
	return nil
}
