package infra

import (
	"testing"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/image"
)

// The record names the workload image that ran, default or chosen: the
// report names the workload from it, and a reader of results.json can
// tell a MariaDB run from a MySQL one.
func TestRecordKeepsTheWorkloadImage(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"", config.DefaultWorkloadImage},
		{"mariadb:11.4", "mariadb:11.4"},
	} {
		values := map[string]string{"profiles": "docker", "libvirt": `{"domainType":"qemu"}`, "mysqlPassword": "0123456789abcdef"}
		if tc.set != "" {
			values[config.KeyWorkloadImage] = tc.set
		}
		exp, err := config.Parse(values, Source("footprint", "t", t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Prepare(exp, "footprint-t", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Record(image.Resolved{Ref: "test.qcow2"})["workloadImage"]; got != tc.want {
			t.Errorf("workloadImage %q set: recorded %v, want %q", tc.set, got, tc.want)
		}
	}
}
