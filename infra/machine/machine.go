// Package machine is the contract between the program and a backend that
// creates virtual machines: libvirt today, a cloud later, each one package
// beside the other. A backend gets specs and returns created machines; it
// knows nothing of profiles, agents or results.
package machine

import (
	"context"
	"net/netip"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"golang.org/x/crypto/ssh"
)

// The contract imports nothing of footprint: a backend learns what it
// needs in the contract's own terms, and what the program and the runner
// make of it (rendered user-data, a resolved image, a route for the
// collector, a plan of waves) is theirs to convert.

// Spec is one virtual machine to create.
type Spec struct {
	Node    string // logical name: hostname and key of the results
	Profile string // the profile installed
	// Variant names the stack's variant the node measures (its options
	// chosen, in Options); "" for the profile as its project ships it.
	Variant   string
	Options   []string
	Repeat    int    // 1-based
	Name      string // unique on the host: derived from project, stack and node
	VCPUs     int
	MemoryMiB int
	DiskGiB   int
	Address   netip.Addr
	MAC       string
	CloudInit CloudInit
	// Artifacts is the host path of a read-only disk image holding the
	// profile's offline install, attached beside the boot disk; "" for none.
	Artifacts string
	// Host names the host of a backend with several that the machine goes
	// to (the runner's wave places it); "" for the backend's first.
	Host string
}

// CloudInit is a node's cloud-init documents, as the backend hands them
// to the guest (a NoCloud disk, a cloud's user-data).
type CloudInit struct {
	UserData      string
	MetaData      string
	NetworkConfig string
}

// Image is the boot disk a local backend starts every machine from.
type Image struct {
	Path   string // local file
	Format string // qcow2 or raw
}

// Tunnel is an SSH server through which the runner reaches the machines'
// private network: its address, user, and how to log in and check it.
type Tunnel struct {
	Addr     string // host:port
	User     string
	Auth     []ssh.AuthMethod
	HostKeys ssh.HostKeyCallback
}

// HostCapacity is one host's capacity and the share of it guests may
// take, as the backend reads it with the stack's limits. Its fields are
// those of waves.Capacity, the planner's, which the runner converts it to.
type HostCapacity struct {
	Name      string
	MemoryMiB int
	Cores     int
	// MemoryShare is the part of MemoryMiB the guests of a wave may take
	// together, hypervisor overhead included (0 < share ≤ 1).
	MemoryShare float64
	// GuestOverheadMiB is what the hypervisor holds per guest beyond its
	// memory.
	GuestOverheadMiB int
	// VCPUsPerCore bounds a wave's vCPUs to Cores × VCPUsPerCore (> 0).
	VCPUsPerCore float64
	// MaxGuests, when above 0, bounds a wave's guests.
	MaxGuests int
}

// Environment is what every machine of one stack shares, whatever the
// backend; what only one backend knows is in that backend's settings.
type Environment struct {
	Prefix  string // project-stack: every name on the host starts with it
	CIDR    netip.Prefix
	Gateway netip.Addr
	Image   Image // zero for a backend with images of its own
	// Sizes are the (vCPUs, MiB of memory) of the stack's nodes.
	Sizes [][2]int
}

// Machine is a created virtual machine.
type Machine struct {
	Spec Spec
	// Component is the node's component resource, for logs and parents.
	Component pulumi.Resource
	// Created resolves once the machine exists and is booting.
	Created pulumi.IDOutput
	// Reach resolves to the address the runner reaches the machine at: its
	// fixed private address on a local network, its public one in a cloud.
	Reach pulumi.StringOutput
	// Tunnel, when set, is the SSH route the runner reaches the machine's
	// private network through (a remote libvirt host's own SSH server).
	Tunnel *Tunnel
	// Facts are what the backend knows of where the machine runs, for the
	// record: results.Machine's region, instanceType and imageId.
	Facts map[string]string
	// ConsoleLog is the host path of its serial console log, "" when the
	// hypervisor is not on this host.
	ConsoleLog string
	// Hypervisor names the backend and domain type, for the report.
	Hypervisor string
	// VirtType is the hypervisor's kind of machine: libvirt's domain type
	// (kvm, qemu), a cloud's hypervisor family.
	VirtType string
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

// Logf is where a backend says what it did that the user must know of, such
// as each object a sweep removed.
type Logf func(format string, args ...any)

// Backend is one place machines run, with its settings, through the whole
// lifecycle of a stack: checks before anything exists, the machines inside
// the Pulumi program, and the sweep of whatever is left after it, found by
// name or tag, with or without Pulumi's state.
type Backend interface {
	// Name is the backend's registry name and the key of its settings.
	Name() string
	// Describe is what the run's record says of where the machines ran
	// (a host's URI, a region), by the backend's own key names.
	Describe() map[string]string
	// Preflight refuses, with one line naming the key, a stack this backend
	// cannot host, before anything is created.
	Preflight(ctx context.Context, env Environment) error
	// Provision creates the shared resources of a stack and its machines.
	Provision(ctx *pulumi.Context, env Environment, specs []Spec) ([]Machine, error)
	// Sweep removes everything of the stack with this prefix, or with
	// prefix "" everything footprint left, and names each object removed.
	Sweep(ctx context.Context, prefix string, log Logf) ([]string, error)
}

// SpecChecker is the optional capability of a backend that refuses some
// planned machines whatever the stack's settings, such as user-data over a
// cloud's limit: validation asks it, so that `footprint validate` refuses
// what Provision would, in one line naming the node.
type SpecChecker interface {
	CheckSpecs(specs []Spec) error
}

// LocalImage is the optional capability of a backend that boots the stack's
// footprint:image from the runner's disk; a cloud backend finds its own.
type LocalImage interface {
	LocalImage()
}

// Capacity is the optional capability of a backend whose machines share
// hosts of bounded size: it reads each host's memory and cores, with the
// limits the stack set, so that the runner plans the matrix in waves that
// fit them instead of starting every machine at once.
type Capacity interface {
	Hosts(ctx context.Context) ([]HostCapacity, error)
}

// SSHOnly is the optional capability of a backend whose machines are open
// to SSH only (a cloud's firewall): the agent's port cannot be reached, so
// results are collected through the guest's SSH server.
type SSHOnly interface {
	SSHOnly()
}

// Recorder is the optional capability of a backend that keeps, outside the
// guest, evidence of a machine: its console, its definition, the
// hypervisor's log. The runner saves it in the run folder before the
// machine is destroyed.
type Recorder interface {
	// Record writes what the host holds of the machine into dir as
	// NODE.<kind> files and returns the saved console log, "" for none.
	Record(ctx context.Context, s Spec, dir string) (console string)
	// Forget removes the host's files of destroyed machines.
	Forget(specs []Spec)
}

// HostLoss is the optional capability of a backend spread over several
// hosts that can go on without one of them. When a wave's machines cannot
// be destroyed, the runner asks which hosts still answer, forgets the
// resources of those that do not (they stay on their host until it is back
// and a resume or `footprint cleanup` removes them) and runs the rest of
// the experiment on the others.
type HostLoss interface {
	// Answers is nil when the host answers now.
	Answers(ctx context.Context, host string) error
	// Holds reports whether a resource of the stack's Pulumi state is the
	// root of what lives on host (its provider); the runner adds whatever
	// depends on it.
	Holds(host string, r apitype.ResourceV3) bool
	// Only is the backend reduced to the given hosts, in its own order.
	Only(hosts []string) Backend
}
