package libvirt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/infra/machine"
)

// Fleet is several libvirt hosts in one stack (footprint:libvirt.hosts):
// each host gets its own provider, pool and network in the same Pulumi
// program, and each machine goes to the host its spec names (the runner's
// waves place them), the first host when it names none.
type Fleet []Backend

var (
	_ machine.Backend    = Fleet{}
	_ machine.Recorder   = Fleet{}
	_ machine.Capacity   = Fleet{}
	_ machine.LocalImage = Fleet{}
	_ machine.HostLoss   = Fleet{}
)

// answerWithin bounds the question whether a host answers: a host that
// dropped off the network may not even refuse.
const answerWithin = 20 * time.Second

// providerType is the Pulumi type of a host's provider in the state.
const providerType = "pulumi:providers:libvirt"

// Name implements machine.Backend.
func (Fleet) Name() string { return Name }

// LocalImage implements machine.LocalImage.
func (Fleet) LocalImage() {}

// Describe implements machine.Backend: the hosts' URIs, in order.
func (f Fleet) Describe() map[string]string {
	uris := make([]string, len(f))
	for i, b := range f {
		uris[i] = b.URI
	}
	return map[string]string{"uri": strings.Join(uris, " "), "domainType": f[0].DomainType}
}

// Preflight implements machine.Backend: every host, each refusal naming it.
func (f Fleet) Preflight(ctx context.Context, env machine.Environment) error {
	for i, b := range f {
		if err := b.Preflight(ctx, env); err != nil {
			return fmt.Errorf("host %d (%s): %w", i, b.URI, err)
		}
	}
	return nil
}

// Hosts implements machine.Capacity: every host's capacity and limits.
func (f Fleet) Hosts(ctx context.Context) ([]machine.HostCapacity, error) {
	var out []machine.HostCapacity
	for _, b := range f {
		h, err := b.Hosts(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, h...)
	}
	return out, nil
}

// Provision implements machine.Backend: each host's machines on it.
func (f Fleet) Provision(ctx *pulumi.Context, env machine.Environment, specs []machine.Spec) ([]machine.Machine, error) {
	groups := make([][]machine.Spec, len(f))
	for _, s := range specs {
		i, err := f.index(s)
		if err != nil {
			return nil, err
		}
		groups[i] = append(groups[i], s)
	}
	var out []machine.Machine
	for i, b := range f {
		if len(groups[i]) == 0 {
			continue
		}
		ms, err := b.Provision(ctx, env, groups[i])
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// index is the host of a spec: the one its Host names, the first for "".
func (f Fleet) index(s machine.Spec) (int, error) {
	if s.Host == "" {
		return 0, nil
	}
	for i, b := range f {
		if b.URI == s.Host {
			return i, nil
		}
	}
	return 0, fmt.Errorf("node %s is placed on %s, which is not among footprint:libvirt.hosts", s.Node, s.Host)
}

// Sweep implements machine.Backend: every host, each removal named.
func (f Fleet) Sweep(ctx context.Context, prefix string, log machine.Logf) ([]string, error) {
	var removed []string
	var firstErr error
	for _, b := range f {
		r, err := b.Sweep(ctx, prefix, func(format string, args ...any) { log("%s: %s", b.URI, fmt.Sprintf(format, args...)) })
		removed = append(removed, r...)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", b.URI, err)
		}
	}
	return removed, firstErr
}

// Record implements machine.Recorder, on the machine's host.
func (f Fleet) Record(ctx context.Context, s machine.Spec, dir string) string {
	i, err := f.index(s)
	if err != nil {
		return ""
	}
	return f[i].Record(ctx, s, dir)
}

// Forget implements machine.Recorder, on each machine's host.
func (f Fleet) Forget(specs []machine.Spec) {
	for _, s := range specs {
		if i, err := f.index(s); err == nil {
			f[i].Forget([]machine.Spec{s})
		}
	}
}

// Answers implements machine.HostLoss: libvirt on the host answers.
func (Fleet) Answers(ctx context.Context, host string) error {
	ctx, cancel := context.WithTimeout(ctx, answerWithin)
	defer cancel()
	_, err := Virsh{URI: host}.run(ctx, "version")
	return err
}

// Holds implements machine.HostLoss: the host's provider, the root of
// everything the stack has on it.
func (Fleet) Holds(host string, r apitype.ResourceV3) bool {
	return string(r.Type) == providerType && r.Inputs["uri"] == host
}

// Only implements machine.HostLoss: the fleet's hosts among hosts, in its
// order, then each other one with the first host's settings. A host that
// an earlier run lost may since have left footprint:libvirt.hosts, and
// what the run left there is still removed by name; a URI footprint
// refuses (hosts come from a run's record) is not reached, and sweeping it
// fails, so that the record keeps the host.
func (f Fleet) Only(hosts []string) machine.Backend {
	var out Fleet
	for _, b := range f {
		if slices.Contains(hosts, b.URI) {
			out = append(out, b)
		}
	}
	for _, h := range hosts {
		if !slices.ContainsFunc(out, func(b Backend) bool { return b.URI == h }) {
			out = append(out, f.elsewhere(h))
		}
	}
	return out
}

// elsewhere is a host outside the fleet, with its first host's settings.
func (f Fleet) elsewhere(uri string) Backend {
	b := Backend{Settings: Settings{DomainType: "kvm", Limits: defaultLimits()}}
	if len(f) > 0 {
		b = f[0]
	}
	b.URI, b.suffix = uri, "-elsewhere"
	if err := checkURI(uri); err != nil {
		b.refused = fmt.Errorf("not reached: %w", err)
	}
	return b
}
