package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// csvRows parses results.csv back into one map per row, keyed by column.
func csvRows(t *testing.T, run record.Run) []map[string]string {
	t.Helper()
	data, err := CSV(run)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("results.csv does not parse: %v\n%s", err, data)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], CSVColumns) {
		t.Fatalf("header %v, want %v", recs[0], CSVColumns)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, c := range recs[0] {
			row[c] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

func TestCSVHasTheRequiredColumns(t *testing.T) {
	for _, c := range []string{"run_id", "stack", "node", "profile", "memory_mib", "repeat", "phase", "samples",
		"used_mib_median", "used_mib_min", "used_mib_max", "mem_total_mib", "free_used_mib", "api_verdict",
		"api_latency_median_ms", "status", "system_version", "os", "kernel", "image_sha256", "oom_kills"} {
		if !slices.Contains(CSVColumns, c) {
			t.Errorf("results.csv lacks column %s", c)
		}
	}
}

func TestCSVOneRowPerNodeAndPhase(t *testing.T) {
	find := func(rows []map[string]string, node, phase string) map[string]string {
		for _, r := range rows {
			if r["node"] == node && r["phase"] == phase {
				return r
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name  string
		run   record.Run
		nrows int
		check map[[2]string]map[string]string // (node, phase) -> column -> value
	}{{
		name:  "single",
		run:   fixtureRun(),
		nrows: 4, // bare idle, docker idle and workload, k3s without samples
		check: map[[2]string]map[string]string{
			{"bare", "idle"}: {"run_id": "20261125T123833Z-ci", "stack": "ci", "profile": "bare", "memory_mib": "1024", "vcpus": "1",
				"repeat": "1", "samples": "2", "used_mib_median": "167.5", "mem_total_mib": "973.2", "free_used_mib": "150.0",
				"status": "ok", "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-40-cloud-amd64", "image_sha256": "e6992b7196490000",
				"api_verdict": "", "hypervisor": "libvirt/qemu", "oom_kills": ""},
			{"docker", "idle"}: {"oom_kills": ""}, // no breakdown of that phase
			{"docker", "workload"}: {"oom_kills": "1", "used_mib_median": "400.0", "api_verdict": "degraded", "api_successes": "2", "api_attempts": "3",
				"api_latency_median_ms": "7.0", "api_latency_max_ms": "10.0", "system_version": "docker 20.10.24 (containerd 1.6.20)"},
			{"k3s", ""}: {"samples": "0", "status": "timeout", "used_mib_median": "", "memory_mib": "1024", "profile": "k3s"},
		},
	}, {
		name:  "repeats",
		run:   repeatsRun(),
		nrows: 12,
		check: map[[2]string]map[string]string{
			{"k3s-r1", "idle"}:     {"profile": "k3s", "repeat": "1", "samples": "2", "used_mib_median": "701.0", "used_mib_min": "700.0", "used_mib_max": "702.0"},
			{"k3s-r3", "workload"}: {"repeat": "3", "api_verdict": "unresponsive", "api_latency_median_ms": "", "used_mib_median": "950.0"},
		},
	}, {
		name:  "sweep",
		run:   sweepRun(),
		nrows: 3 + 2*2 + 1 + 2*3, // bare idle ×3, k0s 1024/2048 ×2 phases, k0s 512 none, k3s ×3 ×2
		check: map[[2]string]map[string]string{
			{"k3s-512m", "workload"}: {"memory_mib": "512", "mem_total_mib": "461.0", "api_verdict": "unresponsive"},
			{"k0s-512m", ""}:         {"profile": "k0s", "memory_mib": "512", "status": "timeout", "samples": "0", "image_sha256": ""},
			{"bare-2048m", "idle"}:   {"memory_mib": "2048", "used_mib_median": "192.0"},
		},
	}, {
		name:  "failed",
		run:   failedRun(),
		nrows: 5,
		check: map[[2]string]map[string]string{
			{"k0s", ""}:            {"status": "failed", "samples": "0"},
			{"k3s", ""}:            {"status": "unresponsive", "samples": "0"},
			{"microk8s", ""}:       {"status": "timeout", "memory_mib": "1024", "vcpus": ""},
			{"docker", "workload"}: {"samples": "2", "used_mib_median": "964.0", "used_mib_min": "960.0", "used_mib_max": "968.0", "api_verdict": "unresponsive"},
		},
	}, {
		name:  "facts",
		run:   factsRun(),
		nrows: 8,
		check: map[[2]string]map[string]string{
			{"kubeadm-1024m", "idle"}:     {"oom_kills": "0"},
			{"kubeadm-1024m", "workload"}: {"oom_kills": "2", "api_verdict": "unresponsive"},
			{"k3s-2048m", "workload"}:     {"oom_kills": ""},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rows := csvRows(t, tc.run)
			if len(rows) != tc.nrows {
				t.Errorf("%d rows, want %d", len(rows), tc.nrows)
			}
			for k, cols := range tc.check {
				row := find(rows, k[0], k[1])
				if row == nil {
					t.Errorf("no row for node %s phase %q", k[0], k[1])
					continue
				}
				for c, want := range cols {
					if row[c] != want {
						t.Errorf("node %s phase %q: %s = %q, want %q", k[0], k[1], c, row[c], want)
					}
				}
			}
			for _, r := range rows {
				if r["run_id"] != tc.run.ID || r["node"] == "" || r["profile"] == "" || r["status"] == "" {
					t.Errorf("incomplete row %v", r)
				}
				if (r["phase"] == "") != (r["samples"] == "0") {
					t.Errorf("a row has samples without a phase or a phase without samples: %v", r)
				}
			}
		})
	}
}

// The steady state and the host's view have their columns, empty where
// the host saw nothing.
func TestCSVCarriesSteadyStateAndHostView(t *testing.T) {
	run := fixtureRun()
	for i := range run.Nodes {
		if run.Nodes[i].Node == "bare" {
			run.Nodes[i].HostView = []results.HostSample{{Phase: "idle", RSSKiB: 600 * 1024, PSSKiB: 590 * 1024}}
		}
	}
	rows := csvRows(t, run)
	for _, r := range rows {
		switch {
		case r["node"] == "bare" && r["phase"] == "idle":
			if r["host_rss_mib"] != "600.0" || r["host_pss_mib"] != "590.0" || r["used_mib_p95"] != "167.5" || r["steady_readings"] != "2" {
				t.Errorf("bare idle: %v", r)
			}
		case r["node"] == "docker" && r["phase"] == "idle":
			if r["host_rss_mib"] != "" || r["used_mib_p95"] != "230.0" {
				t.Errorf("docker idle: %v", r)
			}
		}
	}
}
