package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/footprint-dev/footprint/infra/machine"
)

// terminateWait bounds the wait for instances to be gone, whose network
// interfaces hold the security group and the subnet until then.
var terminateWait = 10 * time.Minute

// Sweep implements machine.Backend: everything tagged with the prefix (with
// prefix "", everything footprint tagged), found without Pulumi's state and
// removed in dependency order: instances, security groups, subnets, route
// tables, internet gateways, VPCs.
func (b *Backend) Sweep(ctx context.Context, prefix string, log machine.Logf) ([]string, error) {
	api, err := b.api(b.Settings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key(""), err)
	}
	s := sweeper{api: api, filter: tagFilter(prefix), log: log}
	for _, step := range []func(context.Context) error{s.instances, s.securityGroups, s.subnets, s.routeTables, s.gateways, s.vpcs} {
		if err := step(ctx); err != nil {
			s.fail(err)
		}
	}
	return s.removed, s.firstErr
}

func tagFilter(prefix string) []types.Filter {
	if prefix == "" {
		return []types.Filter{{Name: sdkaws.String("tag-key"), Values: []string{TagPrefix}}}
	}
	return []types.Filter{{Name: sdkaws.String("tag:" + TagPrefix), Values: []string{prefix}}}
}

type sweeper struct {
	api      API
	filter   []types.Filter
	log      machine.Logf
	removed  []string
	firstErr error
}

func (s *sweeper) fail(err error) {
	s.log("could not remove: %v", oneLine(err))
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// done records one removal, or its failure.
func (s *sweeper) done(what string, err error) {
	if err != nil {
		s.fail(fmt.Errorf("%s: %w", what, err))
		return
	}
	s.log("removed %s", what)
	s.removed = append(s.removed, what)
}

func (s *sweeper) instances(ctx context.Context) error {
	live := func() ([]string, error) {
		var ids []string
		p := ec2.NewDescribeInstancesPaginator(s.api, &ec2.DescribeInstancesInput{Filters: s.filter})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					if i.State != nil && i.State.Name != types.InstanceStateNameTerminated {
						ids = append(ids, sdkaws.ToString(i.InstanceId))
					}
				}
			}
		}
		return ids, nil
	}
	ids, err := live()
	if err != nil || len(ids) == 0 {
		return err
	}
	if _, err := s.api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		return fmt.Errorf("terminating %s: %w", strings.Join(ids, ", "), err)
	}
	deadline := time.Now().Add(terminateWait)
	for {
		left, err := live()
		if err != nil {
			return err
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instances %s still not terminated after %s", strings.Join(left, ", "), terminateWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
	for _, id := range ids {
		s.done("aws instance "+id, nil)
	}
	return nil
}

func (s *sweeper) securityGroups(ctx context.Context) error {
	out, err := s.api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: s.filter})
	if err != nil {
		return err
	}
	for _, g := range out.SecurityGroups {
		if sdkaws.ToString(g.GroupName) == "default" {
			continue // goes with its VPC
		}
		_, err := s.api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId})
		s.done("aws security group "+sdkaws.ToString(g.GroupId), err)
	}
	return nil
}

func (s *sweeper) subnets(ctx context.Context) error {
	out, err := s.api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: s.filter})
	if err != nil {
		return err
	}
	for _, n := range out.Subnets {
		_, err := s.api.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: n.SubnetId})
		s.done("aws subnet "+sdkaws.ToString(n.SubnetId), err)
	}
	return nil
}

func (s *sweeper) routeTables(ctx context.Context) error {
	out, err := s.api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: s.filter})
	if err != nil {
		return err
	}
	for _, t := range out.RouteTables {
		var errs []error
		for _, a := range t.Associations {
			if sdkaws.ToBool(a.Main) || a.RouteTableAssociationId == nil {
				continue
			}
			_, err := s.api.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId})
			errs = append(errs, err)
		}
		err := errors.Join(errs...)
		if err == nil {
			_, err = s.api.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: t.RouteTableId})
		}
		s.done("aws route table "+sdkaws.ToString(t.RouteTableId), err)
	}
	return nil
}

func (s *sweeper) gateways(ctx context.Context) error {
	out, err := s.api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: s.filter})
	if err != nil {
		return err
	}
	for _, g := range out.InternetGateways {
		var errs []error
		for _, a := range g.Attachments {
			_, err := s.api.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: g.InternetGatewayId, VpcId: a.VpcId})
			errs = append(errs, err)
		}
		err := errors.Join(errs...)
		if err == nil {
			_, err = s.api.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: g.InternetGatewayId})
		}
		s.done("aws internet gateway "+sdkaws.ToString(g.InternetGatewayId), err)
	}
	return nil
}

func (s *sweeper) vpcs(ctx context.Context) error {
	out, err := s.api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: s.filter})
	if err != nil {
		return err
	}
	for _, v := range out.Vpcs {
		_, err := s.api.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: v.VpcId})
		s.done("aws vpc "+sdkaws.ToString(v.VpcId), err)
	}
	return nil
}

// oneLine keeps an API error to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
