package infra

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra/aws"
	"github.com/footprint-dev/footprint/infra/libvirt"
	"github.com/footprint-dev/footprint/infra/machine"
)

func TestRepositoryStackChoosesItsBackend(t *testing.T) {
	root, _ := filepath.Abs("..")
	values, err := config.ReadStackFile(config.StackFile(root, "local"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := config.Parse(values, Source("footprint", "local", root))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBackend(exp, "footprint-local")
	if err != nil {
		t.Fatal(err)
	}
	lb, ok := b.(libvirt.Backend)
	if !ok || lb.URI != "qemu:///system" || lb.DomainType != "kvm" || lb.PoolPath != "/var/lib/libvirt/images/footprint-local" {
		t.Errorf("backend %T %+v", b, b)
	}
}

// The cloud example validates as shipped and plans one t2.micro per system,
// all collected over SSH.
func TestRepositoryAWSStack(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	root, _ := filepath.Abs("..")
	values, err := config.ReadStackFile(config.StackFile(root, "aws"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := config.Parse(values, Source("footprint", "aws", root))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBackend(exp, "footprint-aws")
	if err != nil {
		t.Fatal(err)
	}
	ab, ok := b.(*aws.Backend)
	if !ok || ab.Region != "eu-west-1" || ab.ImageName != aws.DefaultImageName {
		t.Fatalf("backend %T %+v", b, b)
	}
	if _, local := b.(machine.LocalImage); local {
		t.Error("the aws backend would make the runner fetch a local image")
	}
	specs, err := Plan(exp, "footprint-aws")
	if err != nil || len(specs) != 6 {
		t.Fatalf("%d specs, %v; want the seed's six", len(specs), err)
	}
	if _, err := newCollector(exp, config.Secrets{}, b); err == nil || !strings.Contains(err.Error(), "footprint:sshPrivateKey: not set") {
		t.Errorf("collector without the run's keys: %v", err)
	}
}

func TestBackendSettingsAreCheckedByTheBackend(t *testing.T) {
	values := map[string]string{}
	if err := config.ParseOverrides(values, []string{"libvirt.domainType=hvf"}); err != nil {
		t.Fatal(err)
	}
	exp, err := config.Parse(values, Source("footprint", "t", t.TempDir()))
	if err != nil {
		t.Fatal(err) // the shape is config's, the keys the backend's
	}
	_, err = NewBackend(exp, "footprint-t")
	if err == nil || !strings.HasPrefix(err.Error(), `footprint:libvirt.domainType: "hvf" is not allowed`) {
		t.Errorf("error %v", err)
	}
	if got := BackendNames(); !slices.Contains(got, DefaultBackend) {
		t.Errorf("registry %v lacks the default %s", got, DefaultBackend)
	}
}
