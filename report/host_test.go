package report

import (
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/results"
)

func TestMarkdownSetsTheHostBesideTheGuest(t *testing.T) {
	run := fixtureRun()
	if strings.Contains(Markdown(run), "## Guest and host") {
		t.Fatal("a host view section without any host samples")
	}
	for i := range run.Nodes {
		if run.Nodes[i].Node == "bare" {
			run.Nodes[i].HostView = []results.HostSample{
				{Phase: "idle", GuestUptimeSeconds: 75.1, RSSKiB: 600 * 1024, PSSKiB: 590 * 1024, BalloonKiB: map[string]int64{"actual": 1048576}},
				{Phase: "idle", GuestUptimeSeconds: 80.1, RSSKiB: 610 * 1024, PSSKiB: 600 * 1024, BalloonKiB: map[string]int64{"actual": 1048576}},
				{Phase: "idle", GuestUptimeSeconds: 85.1, RSSKiB: 700 * 1024, PSSKiB: 690 * 1024},
			}
		}
	}
	md := Markdown(run)
	for _, want := range []string{
		"## Guest and host (MiB)",
		"| System | Phase | Guest used | QEMU RSS | QEMU PSS | Balloon (actual) | Host samples |",
		// Medians of the three samples; the balloon's last reported size.
		"| bare | idle | 168 | 610 | 600 | 1024 | 3 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, "| docker | idle | 230 |") {
		t.Error("a row for a node the host did not see")
	}
}
