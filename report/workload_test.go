package report

import (
	"bytes"
	"encoding/json"
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

// Two runs of different workloads can be compared, but the comparison says
// so and names neither in its headers; two of the same are named.
func TestCompareSaysWhatEachRunRan(t *testing.T) {
	a, b := compareRuns()
	b.Experiment = ranWith("mariadb:11.4")
	c := Compare(a, b)
	c.Gate = c.Judge(both())
	md := c.Markdown()
	for _, want := range []string{
		"| Workload | mysql:8.4 | mariadb:11.4 |\n\nA ran mysql:8.4, B ran mariadb:11.4.\n",
		"| Used with the workload A | Used with the workload B | Δ with the workload |",
		"Thresholds of growth: idle 32 MiB and 5%, with the workload 32 MiB and 5%;",
		"- microk8s at 1024 MiB, with the workload: missing: not run in B\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("comparison lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "MySQL") || strings.Contains(md, "MariaDB") {
		t.Errorf("comparison names one workload for two:\n%s", md)
	}
	if data, err := c.JSON(); err != nil || !bytes.Contains(data, []byte(`"workloadImage": "mariadb:11.4"`)) {
		t.Errorf("JSON lacks B's workload image: %v\n%s", err, data)
	}

	// The same workload in another version: named, and the versions said.
	a.Experiment, b.Experiment = ranWith("mariadb:10.11"), ranWith("docker.io/library/mariadb:11.4")
	md = Compare(a, b).Markdown()
	for _, want := range []string{"A ran mariadb:10.11, B ran docker.io/library/mariadb:11.4.", "| Used with MariaDB A | Used with MariaDB B | Δ with MariaDB |"} {
		if !strings.Contains(md, want) {
			t.Errorf("comparison lacks %q:\n%s", want, md)
		}
	}
	// The same image: nothing to point out. A record without one: unknown.
	b.Experiment = a.Experiment
	if md := Compare(a, b).Markdown(); strings.Contains(md, " ran ") {
		t.Errorf("the same workload pointed out:\n%s", md)
	}
	b.Experiment = nil
	if md := Compare(a, b).Markdown(); !strings.Contains(md, "A ran mariadb:10.11, B ran a workload its record does not name.") {
		t.Errorf("a record without its workload:\n%s", md)
	}
}

// The gate names the workload in its lines, and a gate read back from JSON
// names none it was not told.
func TestGateLinesNameTheWorkload(t *testing.T) {
	a, b := compareRuns()
	a.Experiment, b.Experiment = ranWith("mariadb:11.4"), ranWith("mariadb:11.4")
	g := Compare(a, b).Judge(both())
	cell := cellOf(t, g, "microk8s", 1024, CheckAPI)
	if line := g.Line(cell); line != "microk8s at 1024 MiB, API after MariaDB: missing: no API verdict in B" {
		t.Errorf("line %q", line)
	}
	data, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var back Gate
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if line := back.Line(cell); line != "microk8s at 1024 MiB, API after the workload: missing: no API verdict in B" {
		t.Errorf("line read back %q", line)
	}
}
