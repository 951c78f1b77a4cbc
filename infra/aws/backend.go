// Package aws is the backend that runs footprint's nodes as EC2 instances:
// one VPC, subnet, internet gateway and security group per stack, every
// resource tagged with the stack's prefix, the same cloud-init user-data as
// a local VM, and nothing open but SSH from the runner's own address.
//
// Its settings are the section footprint:aws; what only AWS knows (regions,
// AMIs, instance types, the API) stays in this package.
package aws

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/footprint-dev/footprint/config"
)

// Name is the backend's registry name and the key of its section of the
// configuration: footprint:aws.
const Name = "aws"

// TagPrefix is the tag every resource of a stack carries, with the stack's
// prefix as its value: what `footprint cleanup` finds without Pulumi's state.
const TagPrefix = "footprint:prefix"

// Canonical publishes Ubuntu's AMIs from this account; the name pattern is
// its documented one for Ubuntu 24.04 LTS Minimal on amd64 with gp3 disks.
const (
	CanonicalOwner   = "099720109477"
	DefaultImageName = "ubuntu-minimal/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-minimal-*"
)

// Settings are the keys of the footprint:aws section.
type Settings struct {
	// Region is where every resource of the stack is created; default
	// AWS_REGION or AWS_DEFAULT_REGION, as the AWS SDKs read them.
	Region string
	// InstanceType, when set, is used for every node; otherwise each node
	// gets the t2 type of its vCPUs and memory (1 vCPU / 1 GiB: t2.micro).
	InstanceType string
	// ImageName is the AMI name pattern, looked up among Canonical's images
	// in the region (newest first).
	ImageName string
	// SSHFrom is the one address (a /32 or /128) SSH is open from; default
	// the runner's public address, asked of checkip.amazonaws.com.
	SSHFrom netip.Prefix
	// Endpoint replaces the EC2 API's address (a test double, LocalStack).
	Endpoint string
}

// Backend creates machines in the AWS region its settings name.
type Backend struct {
	Settings
	prefix string
	api    func(s Settings) (API, error) // the EC2 API; a fake in tests
	myIP   func() (netip.Addr, error)    // the runner's public address
}

var settingKeys = []string{"endpoint", "imageName", "instanceType", "region", "sshFrom"}

// New reads the footprint:aws section (a JSON object, "" for none) of the
// stack with this prefix; every error names its key.
func New(prefix, raw string) (*Backend, error) {
	s := Settings{Region: envRegion(), ImageName: DefaultImageName}
	if strings.TrimSpace(raw) != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("%s: want a map of keys (%s), not %q", key(""), strings.Join(settingKeys, ", "), raw)
		}
		if err := config.ApplySection(m, key, s.set); err != nil {
			return nil, err
		}
	}
	if s.Region == "" {
		return nil, fmt.Errorf("%s: not set (nor AWS_REGION): name the region, e.g. eu-west-1", key("region"))
	}
	return &Backend{Settings: s, prefix: prefix, api: newAPI, myIP: checkIP}, nil
}

func envRegion() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return os.Getenv("AWS_DEFAULT_REGION")
}

var (
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

// key is the full name of one of the section's keys, as errors name it.
func key(k string) string { return config.SectionKey(Name, k) }

func (s *Settings) set(k, v string) error {
	switch k {
	case "region":
		if !regionPattern.MatchString(v) {
			return fmt.Errorf("%q is not an AWS region name (e.g. eu-west-1)", v)
		}
		s.Region = v
	case "instanceType":
		if !instanceTypePattern.MatchString(v) {
			return fmt.Errorf("%q is not an EC2 instance type (e.g. t2.micro)", v)
		}
		s.InstanceType = v
	case "imageName":
		if v == "" || strings.ContainsAny(v, " \t\n") {
			return fmt.Errorf("%q is not an AMI name pattern", v)
		}
		s.ImageName = v
	case "sshFrom":
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Errorf("%q is not an address or a /32 (/128) prefix", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Bits() != p.Addr().BitLen() {
			return fmt.Errorf("%s opens SSH to %d addresses; want the runner's one (a /%d)", p, 1<<min(p.Addr().BitLen()-p.Bits(), 62), p.Addr().BitLen())
		}
		s.SSHFrom = p
	case "endpoint":
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL", v)
		}
		s.Endpoint = v
	default:
		return fmt.Errorf("unknown key (known: %s)", strings.Join(settingKeys, ", "))
	}
	return nil
}

// Name implements machine.Backend.
func (*Backend) Name() string { return Name }

// Describe implements machine.Backend.
func (b *Backend) Describe() map[string]string {
	d := map[string]string{"region": b.Region, "imageName": b.ImageName}
	if b.InstanceType != "" {
		d["instanceType"] = b.InstanceType
	}
	return d
}

// SSHOnly implements machine.SSHOnly: the security group opens SSH only.
func (*Backend) SSHOnly() {}

// defaultTypes are the instance types of a node's vCPUs and MiB of memory
// when footprint:aws.instanceType is not set: the t2 family offers 1 vCPU
// at 0.5, 1 and 2 GiB, which t3 does not.
var defaultTypes = map[[2]int]string{
	{1, 512}: "t2.nano", {1, 1024}: "t2.micro", {1, 2048}: "t2.small",
	{2, 4096}: "t2.medium", {2, 8192}: "t2.large",
}

// instanceType is the type of a node of this size, or an error naming the key.
func (b *Backend) instanceType(vcpus, memoryMiB int) (string, error) {
	if b.InstanceType != "" {
		return b.InstanceType, nil
	}
	if t, ok := defaultTypes[[2]int{vcpus, memoryMiB}]; ok {
		return t, nil
	}
	return "", fmt.Errorf("%s: not set, and no t2 type has %d vCPU / %d MiB; name one", key("instanceType"), vcpus, memoryMiB)
}

// sshFrom is the address SSH is open from: the setting, else the runner's.
func (b *Backend) sshFrom() (netip.Prefix, error) {
	if b.SSHFrom.IsValid() {
		return b.SSHFrom, nil
	}
	a, err := b.myIP()
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s: not set, and the runner's public address is unknown: %w", key("sshFrom"), err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// tags are the tags of a resource of the stack.
func (b *Backend) tags(name string) map[string]string {
	return map[string]string{TagPrefix: b.prefix, "Name": name}
}
