package infra

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra/libvirt"
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
