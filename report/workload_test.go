package report

import (
	"bytes"
	"strings"
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

// withoutSeed is a report with the seed's columns and footnote taken out:
// they say MySQL whatever ran, because the seed ran MySQL.
func withoutSeed(md string) string {
	for _, s := range []string{"Seed with MySQL (MiB)¹", "Seed API after MySQL¹", seedNote} {
		md = strings.ReplaceAll(md, s, "")
	}
	return md
}

// A run of MariaDB is reported as one: every label that names the workload
// says MariaDB, and MySQL is left to the seed's own figures. A record that
// does not say which image ran names no workload it cannot know.
func TestReportNamesTheWorkloadThatRan(t *testing.T) {
	search := searchRun()
	search.Nodes = fixtureRun().Nodes
	for _, tc := range []struct {
		image string
		want  []string
	}{
		{"docker.io/library/mariadb:11.4@sha256:0123456789abcdef", []string{
			"![Used memory per system, idle and with MariaDB, against MemTotal](chart.svg)",
			"| Used with MariaDB (MiB) | Seed with MySQL (MiB)¹ | MemTotal (MiB) | API after MariaDB | Seed API after MySQL¹ |",
			"| Used with MariaDB (MiB): defaults → variant | Change with MariaDB | API after MariaDB: defaults → variant |",
			"## Smallest VM whose API survived MariaDB\n",
			"| Used with MariaDB (MiB) | API after MariaDB | OOM kills | Status |",
			"Works: every phase ran, MariaDB became ready (workloadReady ok)",
		}},
		{"", []string{
			"| Used with the workload (MiB) | Seed with MySQL (MiB)¹ |",
			"## Smallest VM whose API survived the workload\n",
			"Works: every phase ran, the workload became ready",
		}},
	} {
		var md string
		for _, run := range []record.Run{withVariant(fixtureRun()), sweepRun(), repeatsRun(), search} {
			run.Experiment = ranWith(tc.image)
			md += Markdown(run)
		}
		for _, want := range tc.want {
			if !strings.Contains(md, want) {
				t.Errorf("%q: the reports lack %q", tc.image, want)
			}
		}
		if rest := withoutSeed(md); strings.Contains(rest, "MySQL") {
			i := strings.Index(rest, "MySQL")
			t.Errorf("%q: a report names MySQL outside the seed's figures: …%s…", tc.image, rest[max(0, i-80):i+5])
		}
	}
}

// The chart names the workload in its titles, its legend and a missing bar.
func TestChartNamesTheWorkloadThatRan(t *testing.T) {
	var svg []byte
	for _, run := range []record.Run{fixtureRun(), sweepRun()} {
		run.Experiment = ranWith("mariadb:11.4")
		out, err := Chart(run)
		if err != nil {
			t.Fatal(err)
		}
		svg = append(svg, out...)
	}
	for _, want := range []string{"idle and with MariaDB, against MemTotal", ">with MariaDB<", ">none with MariaDB<", ">With MariaDB, by VM size<"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if bytes.Contains(svg, []byte("MySQL")) {
		t.Error("the chart of a MariaDB run names MySQL")
	}
}

