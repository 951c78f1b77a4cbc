package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra/machine"
)

// Preflight implements machine.Backend. Before anything is created, each a
// one-line error naming its key: credentials present, the region valid, the
// AMI found, every instance type offered there, the subnet a VPC can have,
// and the address SSH is open from known.
func (b *Backend) Preflight(ctx context.Context, env machine.Environment) error {
	if bits := env.CIDR.Bits(); bits < 16 || bits > 28 {
		return fmt.Errorf("%s:%s: %s: an AWS VPC takes a /16 to /28", config.Namespace, config.KeyNetworkCIDR, env.CIDR)
	}
	if _, err := b.sshFrom(); err != nil {
		return err
	}
	api, err := b.api(b.Settings)
	if err != nil {
		if errors.Is(err, errNoCredentials) {
			return fmt.Errorf("%s: %w (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity role)", key(""), err)
		}
		return fmt.Errorf("%s: %w", key(""), err)
	}
	if _, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{b.Region}}); err != nil {
		return fmt.Errorf("%s: %q is not a region this account can use: %v", key("region"), b.Region, oneLine(err))
	}
	if _, err := findImage(ctx, api, b.ImageName); err != nil {
		return fmt.Errorf("%s: %w in %s", key("imageName"), err, b.Region)
	}
	return b.checkTypes(ctx, api, env)
}

// checkTypes refuses a node size with no instance type, and an instance type
// the region does not offer.
func (b *Backend) checkTypes(ctx context.Context, api API, env machine.Environment) error {
	want := map[string]bool{}
	for _, size := range env.Sizes {
		t, err := b.instanceType(size[0], size[1])
		if err != nil {
			return err
		}
		want[t] = true
	}
	if len(want) == 0 {
		return nil
	}
	names := make([]string, 0, len(want))
	for t := range want {
		names = append(names, t)
	}
	sort.Strings(names)
	out, err := api.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: types.LocationTypeRegion,
		Filters:      []types.Filter{{Name: sdkaws.String("instance-type"), Values: names}},
	})
	if err != nil {
		return fmt.Errorf("%s: cannot list the instance types of %s: %v", key("instanceType"), b.Region, oneLine(err))
	}
	offered := map[string]bool{}
	for _, o := range out.InstanceTypeOfferings {
		offered[string(o.InstanceType)] = true
	}
	for _, t := range names {
		if !offered[t] {
			return fmt.Errorf("%s: %s is not offered in %s", key("instanceType"), t, b.Region)
		}
	}
	return nil
}

// imageFilters are the AMI query, the same for the pre-flight and the
// program: Canonical's images of the name, available, x86_64.
func imageFilters(name string) map[string][]string {
	return map[string][]string{"name": {name}, "state": {"available"}, "architecture": {"x86_64"}}
}

// findImage is the newest of Canonical's AMIs with the name pattern.
func findImage(ctx context.Context, api API, name string) (types.Image, error) {
	var filters []types.Filter
	for k, v := range imageFilters(name) {
		filters = append(filters, types.Filter{Name: sdkaws.String(k), Values: v})
	}
	sort.Slice(filters, func(i, j int) bool { return *filters[i].Name < *filters[j].Name })
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{CanonicalOwner}, Filters: filters})
	if err != nil {
		return types.Image{}, fmt.Errorf("cannot look up %q: %v", name, oneLine(err))
	}
	if len(out.Images) == 0 {
		return types.Image{}, fmt.Errorf("no AMI of Canonical (%s) is named %q", CanonicalOwner, name)
	}
	imgs := out.Images
	sort.Slice(imgs, func(i, j int) bool {
		return sdkaws.ToString(imgs[i].CreationDate) > sdkaws.ToString(imgs[j].CreationDate)
	})
	return imgs[0], nil
}
