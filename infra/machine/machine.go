// Package machine is the contract between the program and a backend that
// creates virtual machines: libvirt today, a cloud later, each one package
// beside the other. A backend gets specs and returns created machines; it
// knows nothing of profiles, agents or results.
package machine

import (
	"context"
	"net/netip"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/guest"
	"github.com/footprint-dev/footprint/image"
)

// Spec is one virtual machine to create.
type Spec struct {
	Node      string // logical name: hostname and key of the results
	Profile   string
	Repeat    int    // 1-based
	Name      string // unique on the host: derived from project, stack and node
	VCPUs     int
	MemoryMiB int
	DiskGiB   int
	Address   netip.Addr
	MAC       string
	CloudInit guest.Rendered
	// Artifacts is the host path of a read-only disk image holding the
	// profile's offline install, attached beside the boot disk; "" for none.
	Artifacts string
}

// Environment is what every machine of one stack shares.
type Environment struct {
	Prefix     string // project-stack: every name on the host starts with it
	CIDR       netip.Prefix
	Gateway    netip.Addr
	Image      image.Resolved
	DomainType string
	URI        string
	PoolPath   string
}

// Machine is a created virtual machine.
type Machine struct {
	Spec Spec
	// Component is the node's component resource, for logs and parents.
	Component pulumi.Resource
	// Created resolves once the machine exists and is booting.
	Created pulumi.IDOutput
	// ConsoleLog is the host path of its serial console log, "" when the
	// hypervisor is not on this host.
	ConsoleLog string
	// Hypervisor names the backend and domain type, for the report.
	Hypervisor string
	// HostView reads the hypervisor's side of the machine's memory now; nil
	// where the backend cannot see the machine's process.
	HostView func(context.Context) (HostView, error)
}

// HostView is what the host holds for a machine at one moment, in KiB: the
// hypervisor process's resident and proportional set sizes and the balloon
// statistics the hypervisor reports, by its own names.
type HostView struct {
	RSSKiB     int64
	PSSKiB     int64
	BalloonKiB map[string]int64
}

// Backend creates the shared resources of a stack and its machines.
type Backend interface {
	Provision(ctx *pulumi.Context, env Environment, specs []Spec) ([]Machine, error)
}
