package infra

import (
	"cmp"

	"github.com/footprint-dev/footprint/artifacts"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/infra/machine"
)

// Prepared is a stack made ready once: its configuration parsed, its
// matrix planned, its backend made, and everything checked that can be
// without creating anything. Every command works from it; the program
// creates a wave of it (Options.Nodes) and renders the nodes' user-data
// with the run's secrets just before.
type Prepared struct {
	Experiment config.Experiment
	Prefix     string // project-stack: every name of the stack starts with it
	Backend    machine.Backend
	// Specs are every node of the matrix in plan order, without user-data.
	Specs []machine.Spec
}

// Prepare plans the experiment and makes its backend (b, where not nil:
// a test's), then checks what a run would create: each node's user-data
// at its full size, rendered with stand-ins for the run's secrets, against
// the backend's limits; and footprint:artifacts against its SHA256SUMS.
func Prepare(exp config.Experiment, prefix string, b machine.Backend) (*Prepared, error) {
	specs, err := Plan(exp, prefix)
	if err != nil {
		return nil, err
	}
	if b == nil {
		if b, err = NewBackend(exp, prefix); err != nil {
			return nil, err
		}
	}
	p := &Prepared{Experiment: exp, Prefix: prefix, Backend: b, Specs: specs}
	if c, ok := b.(machine.SpecChecker); ok {
		standIns, err := config.NewSecrets("stand-in")
		if err != nil {
			return nil, err
		}
		rendered, err := Render(exp, specs, standIns)
		if err != nil {
			return nil, err
		}
		if err := c.CheckSpecs(rendered); err != nil {
			return nil, err
		}
	}
	// Pre-flight of footprint:artifacts (issue 9): every folder matches its
	// SHA256SUMS and holds what its profile declares.
	if err := artifacts.Check(exp); err != nil {
		return nil, err
	}
	return p, nil
}

// Environment is what every machine of the stack shares; img is its image
// as resolved (zero for a backend with images of its own).
func (p *Prepared) Environment(img image.Resolved) machine.Environment {
	exp := p.Experiment
	env := machine.Environment{Prefix: p.Prefix, CIDR: exp.NetworkCIDR, Gateway: Gateway(exp.NetworkCIDR),
		Image: machine.Image{Path: img.Path, Format: img.Format}}
	for _, size := range exp.Sizes() {
		env.Sizes = append(env.Sizes, [2]int{exp.VCPUs, size})
	}
	return env
}

// LocalImage says whether the backend boots an image footprint resolves
// (fetched, cached, checked) from footprint:image.
func (p *Prepared) LocalImage() bool {
	_, local := p.Backend.(machine.LocalImage)
	return local
}

// Record is what a run's record keeps of the experiment the stack ran:
// the image, the backend and its settings, the machines' size, and the
// workload image, which the report names as what was measured.
func (p *Prepared) Record(img image.Resolved) map[string]any {
	exp, b := p.Experiment, p.Backend
	return map[string]any{
		"image":         cmp.Or(img.Ref, "(the backend's own)"),
		"imageSha256":   img.SHA256,
		"backend":       b.Name(),
		b.Name():        b.Describe(),
		"vcpus":         exp.VCPUs,
		"memoryMiB":     exp.MemoryMiB,
		"diskGiB":       exp.DiskGiB,
		"network":       exp.NetworkCIDR.String(),
		"workloadImage": exp.WorkloadImage,
	}
}
