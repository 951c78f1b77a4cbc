package infra

import (
	"sort"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra/aws"
	"github.com/footprint-dev/footprint/infra/libvirt"
	"github.com/footprint-dev/footprint/infra/machine"
)

// backends are the registered machine backends by name, each a constructor
// from the stack's prefix and the backend's section of keys (JSON, "" when
// the stack has none). Adding a backend is one package and one line here.
var backends = map[string]func(prefix, section string) (machine.Backend, error){
	libvirt.Name: libvirt.Open,
	aws.Name:     func(prefix, section string) (machine.Backend, error) { return aws.New(prefix, section) },
}

// DefaultBackend is the backend of a stack that names none.
const DefaultBackend = libvirt.Name

// BackendNames lists the registered backends, sorted.
func BackendNames() []string {
	names := make([]string, 0, len(backends))
	for n := range backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewBackend is the experiment's backend with its settings, read from its
// section; an invalid setting fails with one line naming its key.
func NewBackend(exp config.Experiment, prefix string) (machine.Backend, error) {
	name := exp.Backend
	if name == "" {
		name = DefaultBackend
	}
	return backends[name](prefix, exp.BackendConfig[name])
}
