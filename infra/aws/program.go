package aws

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/results"
)

// network is the stack's VPC with what every node shares.
type network struct {
	subnet *ec2.Subnet
	group  *ec2.SecurityGroup
}

// Provision implements machine.Backend: a VPC with one public subnet and a
// security group open to SSH from one address, then one instance per node
// from the region's newest Ubuntu Minimal AMI with the node's user-data.
func (b *Backend) Provision(ctx *pulumi.Context, env machine.Environment, specs []machine.Spec) ([]machine.Machine, error) {
	from, err := b.sshFrom()
	if err != nil {
		return nil, err
	}
	launches, err := b.launches(specs)
	if err != nil {
		return nil, err
	}
	provider, err := aws.NewProvider(ctx, env.Prefix, b.providerArgs())
	if err != nil {
		return nil, err
	}
	opts := []pulumi.InvokeOption{pulumi.Provider(provider)}
	ami, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		Owners: []string{CanonicalOwner}, MostRecent: pulumi.BoolRef(true), Filters: amiFilters(b.ImageName),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: looking up %q: %w", key("imageName"), b.ImageName, err)
	}
	net, err := b.network(ctx, env, from.String(), pulumi.Provider(provider))
	if err != nil {
		return nil, err
	}
	out := make([]machine.Machine, 0, len(specs))
	for i, s := range specs {
		m, err := b.instance(ctx, s, launches[i], ami, net, provider)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// launch is what one node's instance is created with, found before any.
type launch struct {
	typ      string
	userData string // gzip-compressed, base64-encoded
}

// CheckSpecs refuses, before anything exists, what launches would: a size
// without an instance type, or user-data over EC2's limit.
func (b *Backend) CheckSpecs(specs []machine.Spec) error {
	_, err := b.launches(specs)
	return err
}

// launches are every node's type and user-data, first: a size without a
// type, or user-data over EC2's limit, fails before any resource exists.
func (b *Backend) launches(specs []machine.Spec) ([]launch, error) {
	out := make([]launch, len(specs))
	for i, s := range specs {
		var err error
		if out[i].typ, err = b.instanceType(s.VCPUs, s.MemoryMiB); err != nil {
			return nil, err
		}
		if out[i].userData, err = encodeUserData(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *Backend) providerArgs() *aws.ProviderArgs {
	args := &aws.ProviderArgs{Region: pulumi.String(b.Region)}
	if b.Endpoint != "" {
		args.Endpoints = aws.ProviderEndpointArray{aws.ProviderEndpointArgs{Ec2: pulumi.String(b.Endpoint)}}
	}
	return args
}

func amiFilters(name string) []ec2.GetAmiFilter {
	var fs []ec2.GetAmiFilter
	for k, v := range imageFilters(name) {
		fs = append(fs, ec2.GetAmiFilter{Name: k, Values: v})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	return fs
}

// network creates the stack's VPC, its one public subnet routed to an
// internet gateway, and the security group: in, SSH from one address only;
// out, anything (the guest installs its system from the internet).
func (b *Backend) network(ctx *pulumi.Context, env machine.Environment, sshFrom string, opt pulumi.ResourceOption) (network, error) {
	p := env.Prefix
	vpc, err := ec2.NewVpc(ctx, p, &ec2.VpcArgs{
		CidrBlock: pulumi.String(env.CIDR.String()), EnableDnsSupport: pulumi.Bool(true), Tags: pulumi.ToStringMap(b.tags(p)),
	}, opt)
	if err != nil {
		return network{}, err
	}
	igw, err := ec2.NewInternetGateway(ctx, p, &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: pulumi.ToStringMap(b.tags(p))}, opt)
	if err != nil {
		return network{}, err
	}
	subnet, err := ec2.NewSubnet(ctx, p, &ec2.SubnetArgs{
		VpcId: vpc.ID(), CidrBlock: pulumi.String(env.CIDR.String()), MapPublicIpOnLaunch: pulumi.Bool(true), Tags: pulumi.ToStringMap(b.tags(p)),
	}, opt)
	if err != nil {
		return network{}, err
	}
	routes, err := ec2.NewRouteTable(ctx, p, &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   pulumi.ToStringMap(b.tags(p)),
	}, opt)
	if err != nil {
		return network{}, err
	}
	if _, err := ec2.NewRouteTableAssociation(ctx, p, &ec2.RouteTableAssociationArgs{SubnetId: subnet.ID(), RouteTableId: routes.ID()}, opt); err != nil {
		return network{}, err
	}
	group, err := ec2.NewSecurityGroup(ctx, p, &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("footprint " + p + ": SSH from the runner only"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(22), ToPort: pulumi.Int(22), CidrBlocks: pulumi.StringArray{pulumi.String(sshFrom)},
			Description: pulumi.String("the footprint runner"),
		}},
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0), CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		}},
		Tags: pulumi.ToStringMap(b.tags(p)),
	}, opt)
	if err != nil {
		return network{}, err
	}
	return network{subnet: subnet, group: group}, nil
}

// instance creates one node: its type by size, its fixed private address,
// the node's user-data compressed, IMDSv2 only, and a root disk of its size.
func (b *Backend) instance(ctx *pulumi.Context, s machine.Spec, l launch, ami *ec2.LookupAmiResult, net network, provider *aws.Provider) (machine.Machine, error) {
	info, err := ec2.GetInstanceType(ctx, &ec2.GetInstanceTypeArgs{InstanceType: l.typ}, pulumi.Provider(provider))
	if err != nil {
		return machine.Machine{}, fmt.Errorf("%s: %s: %w", key("instanceType"), l.typ, err)
	}
	vm, err := ec2.NewInstance(ctx, s.Name, &ec2.InstanceArgs{
		Ami:                     pulumi.String(ami.Id),
		InstanceType:            pulumi.String(l.typ),
		SubnetId:                net.subnet.ID(),
		VpcSecurityGroupIds:     pulumi.StringArray{net.group.ID()},
		PrivateIp:               pulumi.String(s.Address.String()),
		UserDataBase64:          pulumi.ToSecret(pulumi.String(l.userData)).(pulumi.StringOutput), // it carries the password and the host key
		UserDataReplaceOnChange: pulumi.Bool(true),
		MetadataOptions:         ec2.InstanceMetadataOptionsArgs{HttpTokens: pulumi.String("required")},
		RootBlockDevice: ec2.InstanceRootBlockDeviceArgs{
			VolumeSize: pulumi.Int(s.DiskGiB), VolumeType: pulumi.String("gp3"), DeleteOnTermination: pulumi.Bool(true),
			Tags: pulumi.ToStringMap(b.tags(s.Name)),
		},
		Tags: pulumi.ToStringMap(b.tags(s.Name)),
	}, pulumi.Provider(provider))
	if err != nil {
		return machine.Machine{}, err
	}
	// What the record says is the instance's, not what was asked for.
	s.VCPUs, s.MemoryMiB = info.DefaultVcpus, info.MemorySize
	return machine.Machine{
		Spec:       s,
		Component:  vm,
		Created:    vm.ID(),
		Reach:      vm.PublicIp,
		Hypervisor: "aws/" + info.Hypervisor,
		VirtType:   info.Hypervisor,
		Facts: map[string]string{
			results.FactRegion: b.Region, results.FactInstanceType: l.typ, results.FactImageID: ami.Id, results.FactImage: ami.Name,
		},
	}, nil
}
