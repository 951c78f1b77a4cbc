package report

import (
	"testing"

	"github.com/footprint-dev/footprint/record"
)

func TestWorkloadName(t *testing.T) {
	for _, tc := range []struct {
		experiment map[string]any
		want       string
	}{
		{map[string]any{"workloadImage": "mysql:8.4"}, "MySQL"},
		{map[string]any{"workloadImage": "mysql"}, "MySQL"},
		{map[string]any{"workloadImage": "docker.io/library/mariadb:11.4@sha256:0123456789abcdef"}, "MariaDB"},
		{map[string]any{"workloadImage": "mariadb@sha256:0123456789abcdef"}, "MariaDB"},
		{map[string]any{"workloadImage": "registry.local:5000/db/postgres:17"}, "PostgreSQL"},
		{map[string]any{"workloadImage": "localhost:5000/mysql"}, "MySQL"},
		{map[string]any{"workloadImage": "footprint/standin-mysql:1"}, "standin-mysql"},
		{map[string]any{"workloadImage": "percona/percona-server:8.0"}, "percona-server"},
		// Records from before the image was kept: MySQL was only the default.
		{map[string]any{"workloadImage": ""}, "the workload"},
		{map[string]any{"memoryMiB": 1024.0}, "the workload"},
		{nil, "the workload"},
		{map[string]any{"workloadImage": 8.4}, "the workload"},
	} {
		if got := workloadName(record.Run{Experiment: tc.experiment}); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.experiment, got, tc.want)
		}
	}
}

