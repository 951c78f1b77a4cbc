package aws

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/infra/machine"
)

func env(sizes ...[2]int) machine.Environment {
	return machine.Environment{Prefix: "footprint-cloud", CIDR: netip.MustParsePrefix("10.77.0.0/24"), Sizes: sizes}
}

func newTestBackend(t *testing.T, section string) *Backend {
	t.Helper()
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	b, err := New("footprint-cloud", section)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPreflightAgainstTheEC2API(t *testing.T) {
	f, url := newFakeEC2(t)
	ok := fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url)
	if err := newTestBackend(t, ok).Preflight(context.Background(), env([2]int{1, 1024}, [2]int{1, 2048})); err != nil {
		t.Fatalf("a valid stack was refused: %v", err)
	}
	for _, want := range []string{"DescribeRegions", "DescribeImages", "DescribeInstanceTypeOfferings"} {
		if !slices.Contains(f.actions, want) {
			t.Errorf("pre-flight never asked %s (asked %v)", want, f.actions)
		}
	}

	for _, tc := range []struct {
		name, section, want string
		env                 machine.Environment
	}{
		{"a region the account lacks", fmt.Sprintf(`{"region":"xx-nowhere-1","sshFrom":"203.0.113.7","endpoint":%q}`, url),
			`footprint:aws.region: "xx-nowhere-1" is not a region this account can use`, env([2]int{1, 1024})},
		{"no such AMI", fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q,"imageName":"ubuntu-minimal/images/*-18.04-*"}`, url),
			`footprint:aws.imageName: no AMI of Canonical (099720109477) is named "ubuntu-minimal/images/*-18.04-*" in eu-west-1`, env([2]int{1, 1024})},
		{"a type not offered", fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q,"instanceType":"t2.nano"}`, url),
			"footprint:aws.instanceType: t2.nano is not offered in eu-west-1", env([2]int{1, 512})},
		{"a size without a type", fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url),
			"footprint:aws.instanceType: not set, and no t2 type has 1 vCPU / 3072 MiB", env([2]int{1, 3072})},
		{"a subnet no VPC takes", fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url),
			"footprint:networkCidr: 10.0.0.0/8: an AWS VPC takes a /16 to /28",
			machine.Environment{Prefix: "p", CIDR: netip.MustParsePrefix("10.0.0.0/8")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newTestBackend(t, tc.section).Preflight(context.Background(), tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, tc.want)
			}
		})
	}
}

func TestPreflightWithoutCredentials(t *testing.T) {
	_, url := newFakeEC2(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	b := newTestBackend(t, fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url))
	err := b.Preflight(context.Background(), env([2]int{1, 1024}))
	if err == nil || !strings.HasPrefix(err.Error(), "footprint:aws: no AWS credentials") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line saying there are no credentials", err)
	}
}

// Without footprint:aws.sshFrom, SSH opens to the address the runner is
// seen from, as checkip.amazonaws.com tells it.
func TestSSHFromDefaultsToTheRunnersAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "198.51.100.23") }))
	defer srv.Close()
	old := checkIPURL
	checkIPURL = srv.URL
	defer func() { checkIPURL = old }()
	b := newTestBackend(t, `{"region":"eu-west-1"}`)
	got, err := b.sshFrom()
	if err != nil || got.String() != "198.51.100.23/32" {
		t.Fatalf("sshFrom = %v, %v; want 198.51.100.23/32", got, err)
	}
	checkIPURL = srv.URL + "/nothing-here"
	srv.Config.Handler = http.NotFoundHandler()
	if _, err := b.sshFrom(); err == nil || !strings.HasPrefix(err.Error(), "footprint:aws.sshFrom: not set") {
		t.Errorf("err = %v, want one naming footprint:aws.sshFrom", err)
	}
}

// The sweep finds a stack's resources by tag alone, removes them in the
// order AWS accepts, names each, and leaves another stack's alone.
func TestSweepByTag(t *testing.T) {
	f, url := newFakeEC2(t)
	f.stack("footprint-cloud", 2)
	f.stack("footprint-other", 1)
	old := terminateWait
	terminateWait = 5 * time.Second
	defer func() { terminateWait = old }()
	b := newTestBackend(t, fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url))
	var said []string
	removed, err := b.Sweep(context.Background(), "footprint-cloud", func(format string, args ...any) { said = append(said, fmt.Sprintf(format, args...)) })
	if err != nil {
		t.Fatalf("sweep: %v (said %v)", err, said)
	}
	want := []string{"aws instance i-footprint-cloud-0", "aws instance i-footprint-cloud-1", "aws security group sg-footprint-cloud",
		"aws subnet subnet-footprint-cloud", "aws route table rtb-footprint-cloud", "aws internet gateway igw-footprint-cloud", "aws vpc vpc-footprint-cloud"}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	if len(said) != len(want) || said[0] != "removed "+want[0] {
		t.Errorf("said %v, want each removal named", said)
	}
	if left := f.left(); !slices.Equal(left, []string{"i-footprint-other-0", "igw-footprint-other", "rtb-footprint-other", "sg-footprint-other", "subnet-footprint-other", "vpc-footprint-other"}) {
		t.Errorf("left %v, want only the other stack's", left)
	}

	// With no prefix: everything footprint tagged, whatever the stack.
	if _, err := b.Sweep(context.Background(), "", func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	if left := f.left(); len(left) != 0 {
		t.Errorf("left %v after sweeping everything", left)
	}
}

// What AWS refuses is reported, not hidden: a failing step names the object
// and the sweep goes on with the rest.
func TestSweepReportsWhatItCouldNotRemove(t *testing.T) {
	f, url := newFakeEC2(t)
	f.stack("footprint-cloud", 1)
	f.mu.Lock()
	f.offered = nil
	// An instance the sweep cannot see (untagged) still holds the VPC.
	f.objs = append(f.objs, &object{kind: "instance", id: "i-untagged", vpc: "vpc-footprint-cloud", state: "running"})
	f.mu.Unlock()
	b := newTestBackend(t, fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url))
	var said []string
	removed, err := b.Sweep(context.Background(), "footprint-cloud", func(format string, args ...any) { said = append(said, fmt.Sprintf(format, args...)) })
	if err == nil || !strings.Contains(err.Error(), "sg-footprint-cloud") {
		t.Fatalf("err = %v, want the security group AWS kept", err)
	}
	if !slices.Contains(removed, "aws instance i-footprint-cloud-0") || !slices.Contains(removed, "aws route table rtb-footprint-cloud") {
		t.Errorf("removed %v: the rest should still go", removed)
	}
	if !strings.Contains(strings.Join(said, "\n"), "could not remove: aws security group sg-footprint-cloud: ") {
		t.Errorf("said %v, want the failure named", said)
	}
}

func TestSettingsNameTheirKey(t *testing.T) {
	for section, want := range map[string]string{
		`{"region":"Europe"}`:                         "footprint:aws.region:",
		`{"region":"eu-west-1","instanceType":"big"}`: "footprint:aws.instanceType:",
		`{"region":"eu-west-1","sshFrom":"me"}`:       "footprint:aws.sshFrom:",
		`{"region":"eu-west-1","endpoint":"ftp://x"}`: "footprint:aws.endpoint:",
		`{"region":"eu-west-1","zone":"a"}`:           "footprint:aws.zone: unknown key",
		`{"region":"eu-west-1","imageName":""}`:       "footprint:aws.imageName:",
		`["eu-west-1"]`:                               "footprint:aws: want a map",
	} {
		t.Setenv("AWS_REGION", "")
		if _, err := New("p", section); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", section, err, want)
		}
	}
	t.Setenv("AWS_REGION", "ap-south-1")
	if b, err := New("p", ""); err != nil || b.Region != "ap-south-1" {
		t.Errorf("region from AWS_REGION: %v, %v", b, err)
	}
}
