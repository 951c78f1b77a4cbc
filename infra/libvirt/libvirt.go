// Package libvirt is the machine backend for a libvirt host, local or remote:
// one storage pool, one isolated NAT network and one base volume per stack,
// and per node a copy-on-write volume, a cloud-init disk and a domain, each
// group a component resource with explicit parents.
package libvirt

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	lv "github.com/pulumi/pulumi-libvirt/sdk/go/libvirt"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/infra/machine"
)

// Cluster holds what the nodes of one stack share.
type Cluster struct {
	pulumi.ResourceState
	Pool    *lv.Pool
	Network *lv.Network
	Base    *lv.Volume
	// Artifacts are the read-only offline-install disks, by profile.
	Artifacts map[string]*lv.Volume
	// lastInPool is the pool's volume created last so far.
	lastInPool pulumi.Resource
}

// inPool orders a new volume of the pool after the one created last. The
// provider refreshes the pool around each volume it creates, and libvirt
// refuses a refresh while an upload (a cloud-init disk, the image) is under
// way ("pool has asynchronous jobs running"); side by side, one such
// refusal left the provider waiting forever with nothing created
// (2026-12-07, four nodes: 12 minutes, then interrupted). One after the
// other, they cost a second or two per node.
func (c *Cluster) inPool() pulumi.ResourceOption {
	return pulumi.DependsOn([]pulumi.Resource{c.lastInPool})
}

// Node is one virtual machine with its disks.
type Node struct {
	pulumi.ResourceState
	Volume    *lv.Volume
	CloudInit *lv.CloudInitDisk
	Domain    *lv.Domain
}

// Names derived from the stack prefix; every object footprint creates on a
// host starts with the prefix, which is how cleanup finds them.
func PoolName(prefix string) string    { return prefix }
func NetworkName(prefix string) string { return prefix }
func BaseVolumeName(prefix string) string {
	return prefix + "-base.qcow2"
}
func VolumeName(domain string) string    { return domain + ".qcow2" }
func CloudInitName(domain string) string { return domain + "-cloudinit.iso" }
func ArtifactsVolumeName(prefix, profile string) string {
	return prefix + artifactsMark + profile + ".iso"
}

// artifactsMark is in every artifacts volume's name. The domain XSLT finds
// that disk by its exact name, never by the mark: a stack, profile or node
// may be called "artifacts" too, and its boot disk must stay writable.
const artifactsMark = "-artifacts-"

// BridgeName fits Linux's 15-character limit and is unique per prefix.
func BridgeName(prefix string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(prefix))
	return fmt.Sprintf("fp%08x", h.Sum32())
}

// ConsoleLogPath is where virtlogd writes a domain's serial console, or ""
// when the host is not this one.
func ConsoleLogPath(uri, domain string) string { return logPath(uri, domain+"-console.log") }

// QEMULogPath is where libvirt writes a domain's QEMU log, which starts with
// the command line QEMU ran with; "" when the host is not this one.
func QEMULogPath(uri, domain string) string { return logPath(uri, domain+".log") }

// logPath is a file of libvirt's QEMU log folder of a local URI.
func logPath(uri, file string) string {
	d, _ := os.UserCacheDir()
	return localPath(uri, "/var/log/libvirt/qemu", d, "libvirt/qemu/log", file)
}

// localPath is file in the folder a local libvirt uses for it: system under
// a qemu:///system URI, session (relative to sessionBase, "" when unknown)
// under qemu:///session; "" for a remote or unreadable URI.
func localPath(uri, system, sessionBase, session, file string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host != "" {
		return ""
	}
	switch {
	case u.Path == "/system":
		return filepath.Join(system, file)
	case u.Path == "/session" && sessionBase != "":
		return filepath.Join(sessionBase, session, file)
	}
	return ""
}

// Provision implements machine.Backend.
func (b Backend) Provision(ctx *pulumi.Context, env machine.Environment, specs []machine.Spec) ([]machine.Machine, error) {
	tunnel, err := b.Tunnel()
	if err != nil {
		return nil, err
	}
	provider, err := lv.NewProvider(ctx, b.resource(env.Prefix), &lv.ProviderArgs{Uri: pulumi.String(b.URI)})
	if err != nil {
		return nil, err
	}
	cluster, err := b.newCluster(ctx, env, specs, pulumi.Providers(provider))
	if err != nil {
		return nil, err
	}
	out := make([]machine.Machine, 0, len(specs))
	for _, s := range specs {
		node, err := b.newNode(ctx, env, cluster, s)
		if err != nil {
			return nil, err
		}
		cluster.lastInPool = node.CloudInit
		m := machine.Machine{
			Spec:       s,
			Component:  node,
			Created:    node.Domain.ID(),
			Reach:      pulumi.String(s.Address.String()).ToStringOutput(),
			Tunnel:     tunnel,
			ConsoleLog: ConsoleLogPath(b.URI, s.Name),
			Hypervisor: "libvirt/" + b.DomainType,
			VirtType:   b.DomainType,
		}
		if pidFile := qemuPIDPath(b.URI, s.Name); pidFile != "" {
			v, name := b.virsh(), s.Name
			m.HostView = func(ctx context.Context) (machine.HostView, error) { return v.View(ctx, name, pidFile) }
		}
		out = append(out, m)
	}
	return out, nil
}

// resource is the Pulumi name of one of the stack's shared resources on
// this host: the libvirt name, made unique in the stack where several
// hosts each have their own (the objects' names on each host are the same).
func (b Backend) resource(name string) string { return name + b.suffix }

func (b Backend) newCluster(ctx *pulumi.Context, env machine.Environment, specs []machine.Spec, opts ...pulumi.ResourceOption) (*Cluster, error) {
	c := &Cluster{Artifacts: map[string]*lv.Volume{}}
	// The pool's volumes are created one after the other (inPool).
	if err := ctx.RegisterComponentResource("footprint:libvirt:Cluster", b.resource(env.Prefix), c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	var err error
	c.Pool, err = lv.NewPool(ctx, b.resource(env.Prefix), &lv.PoolArgs{
		Name:   pulumi.String(PoolName(env.Prefix)),
		Type:   pulumi.String("dir"),
		Target: &lv.PoolTargetArgs{Path: pulumi.String(b.PoolPath)},
	}, parent)
	if err != nil {
		return nil, err
	}
	c.Network, err = lv.NewNetwork(ctx, b.resource(env.Prefix), &lv.NetworkArgs{
		Name:      pulumi.String(NetworkName(env.Prefix)),
		Mode:      pulumi.String("nat"),
		Bridge:    pulumi.String(BridgeName(env.Prefix)),
		Addresses: pulumi.StringArray{pulumi.String(env.CIDR.String())},
		Autostart: pulumi.Bool(false),
		Dhcp:      &lv.NetworkDhcpArgs{Enabled: pulumi.Bool(true)},
		Dns:       &lv.NetworkDnsArgs{Enabled: pulumi.Bool(true), LocalOnly: pulumi.Bool(true)},
	}, parent)
	if err != nil {
		return nil, err
	}
	// One upload of the image per stack; every node is a copy-on-write layer.
	c.Base, err = lv.NewVolume(ctx, b.resource(env.Prefix)+"-base", &lv.VolumeArgs{
		Name:   pulumi.String(BaseVolumeName(env.Prefix)),
		Pool:   c.Pool.Name,
		Source: pulumi.String(env.Image.Path),
		Format: pulumi.String(env.Image.Format),
	}, parent)
	if err != nil {
		return nil, err
	}
	c.lastInPool = c.Base
	// One upload per profile with an offline install, shared read-only by
	// its nodes.
	for _, s := range specs {
		if s.Artifacts == "" || c.Artifacts[s.Profile] != nil {
			continue
		}
		name := ArtifactsVolumeName(env.Prefix, s.Profile)
		c.Artifacts[s.Profile], err = lv.NewVolume(ctx, b.resource(name), &lv.VolumeArgs{
			Name:   pulumi.String(name),
			Pool:   c.Pool.Name,
			Source: pulumi.String(s.Artifacts),
			Format: pulumi.String("raw"),
		}, parent, c.inPool())
		if err != nil {
			return nil, err
		}
		c.lastInPool = c.Artifacts[s.Profile]
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"pool": c.Pool.Name, "network": c.Network.Name, "baseVolume": c.Base.Name,
	})
}

func (b Backend) newNode(ctx *pulumi.Context, env machine.Environment, c *Cluster, s machine.Spec) (*Node, error) {
	n := &Node{}
	if err := ctx.RegisterComponentResource("footprint:libvirt:Node", s.Name, n, pulumi.Parent(c)); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	var err error
	n.Volume, err = lv.NewVolume(ctx, s.Name, &lv.VolumeArgs{
		Name:         pulumi.String(VolumeName(s.Name)),
		Pool:         c.Pool.Name,
		BaseVolumeId: c.Base.ID(),
		Format:       pulumi.String("qcow2"),
		Size:         pulumi.Int(s.DiskGiB << 30),
	}, parent, c.inPool())
	if err != nil {
		return nil, err
	}
	n.CloudInit, err = lv.NewCloudInitDisk(ctx, s.Name, &lv.CloudInitDiskArgs{
		Name: pulumi.String(CloudInitName(s.Name)),
		Pool: c.Pool.Name,
		// user-data carries the workload's password: stored encrypted.
		UserData:      pulumi.ToSecret(pulumi.String(s.CloudInit.UserData)).(pulumi.StringOutput),
		MetaData:      pulumi.String(s.CloudInit.MetaData),
		NetworkConfig: pulumi.String(s.CloudInit.NetworkConfig),
	}, parent, pulumi.DependsOn([]pulumi.Resource{n.Volume}))
	if err != nil {
		return nil, err
	}
	n.Domain, err = lv.NewDomain(ctx, s.Name, &lv.DomainArgs{
		Name:        pulumi.String(s.Name),
		Description: pulumi.String(DomainDescription(env.Prefix)),
		Type:        pulumi.String(b.DomainType),
		Vcpu:        pulumi.Int(s.VCPUs),
		Memory:      pulumi.Int(s.MemoryMiB),
		Autostart:   pulumi.Bool(false),
		Cloudinit:   n.CloudInit.ID(),
		Disks:       disks(n, c, s),
		NetworkInterfaces: lv.DomainNetworkInterfaceArray{&lv.DomainNetworkInterfaceArgs{
			NetworkId: c.Network.ID(),
			Mac:       pulumi.String(s.MAC),
			Hostname:  pulumi.String(s.Node),
			// A fixed DHCP host entry instead of waiting for a lease:
			// upstream's wait_for_lease is broken after 0.7.1.
			Addresses:    pulumi.StringArray{pulumi.String(s.Address.String())},
			WaitForLease: pulumi.Bool(false),
		}},
		Consoles: lv.DomainConsoleArray{&lv.DomainConsoleArgs{
			Type: pulumi.String("pty"), TargetType: pulumi.String("serial"), TargetPort: pulumi.String("0"),
		}},
		Xml: &lv.DomainXmlArgs{Xslt: pulumi.String(domainXSLT(ConsoleLogPath(b.URI, s.Name), b.TBCacheMiB, artifactsVolume(c, s, env.Prefix)))},
	}, parent)
	if err != nil {
		return nil, err
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"domain": n.Domain.Name, "address": pulumi.String(s.Address.String()),
	})
}

// disks are the boot disk and, for an offline install, the artifacts disk.
func disks(n *Node, c *Cluster, s machine.Spec) lv.DomainDiskArray {
	out := lv.DomainDiskArray{&lv.DomainDiskArgs{VolumeId: n.Volume.ID()}}
	if a := c.Artifacts[s.Profile]; a != nil && s.Artifacts != "" {
		out = append(out, &lv.DomainDiskArgs{VolumeId: a.ID()})
	}
	return out
}

// artifactsVolume is the name of the node's artifacts disk, "" for none.
func artifactsVolume(c *Cluster, s machine.Spec, prefix string) string {
	if c.Artifacts[s.Profile] == nil || s.Artifacts == "" {
		return ""
	}
	return ArtifactsVolumeName(prefix, s.Profile)
}

// domainXSLT adapts the provider's domain XML where its schema has no field:
// the serial console also goes to a log file through virtlogd (progress and
// the fallback when the network fails), the SPICE display the provider adds
// by default is dropped, since nobody looks at it and it costs host CPU, and
// the artifacts disk of an offline install is read-only, so that nodes can
// share it and no guest can change what the next one installs, and under
// software emulation the translation cache has the size asked for (0:
// QEMU's own). artifacts is the artifacts volume's name, "" for none.
func domainXSLT(consoleLog string, tbCacheMiB int, artifacts string) string {
	templates := ""
	if artifacts != "" {
		templates += appendChild(volumeDisk(artifacts), "<readonly/>")
	}
	if tbCacheMiB > 0 {
		templates += appendChild("/domain[@type='qemu']/features", fmt.Sprintf(`<tcg><tb-cache unit="MiB">%d</tb-cache></tcg>`, tbCacheMiB))
	}
	if consoleLog != "" {
		templates += appendChild("/domain/devices/console[target/@type='serial']", fmt.Sprintf(`<log file=%q append="off"/>`, consoleLog))
	}
	return strings.TrimSpace(`
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output omit-xml-declaration="yes" indent="yes"/>
  <xsl:template match="@*|node()">
    <xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>
  </xsl:template>
  <xsl:template match="/domain/devices/graphics"/>` + templates + `
</xsl:stylesheet>`)
}

// volumeDisk selects the disk of the volume with exactly this name, as the
// provider writes it: by pool and name, or by its path in the pool's folder.
// A path is matched on its end, "/" and the name, since XPath 1.0 has no
// ends-with; a substring would also match a boot disk of a similar name.
func volumeDisk(name string) string {
	file := xpathString("/" + name)
	return fmt.Sprintf("/domain/devices/disk[source/@volume = %s or substring(source/@file, string-length(source/@file) - string-length(%s) + 1) = %s]",
		xpathString(name), file, file)
}

// xpathString is s as an XPath 1.0 string literal, which has no escapes: a
// string with both kinds of quote is spelled with concat().
func xpathString(s string) string {
	switch {
	case !strings.Contains(s, "'"):
		return "'" + s + "'"
	case !strings.Contains(s, `"`):
		return `"` + s + `"`
	}
	return "concat('" + strings.ReplaceAll(s, "'", `', "'", '`) + "')"
}

// attrEscaper makes an XPath fit in a double-quoted XML attribute.
var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;")

// appendChild is a template that copies what match selects with child added
// as its last element.
func appendChild(match, child string) string {
	return `
  <xsl:template match="` + attrEscaper.Replace(match) + `">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
      ` + child + `
    </xsl:copy>
  </xsl:template>`
}
