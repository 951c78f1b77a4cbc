package infra

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/results"
)

// One host view per sample line of the node, across partial writes and a
// rotation of the console log; other nodes' and other kinds of lines are
// ignored.
func TestHostSamplerFollowsTheConsole(t *testing.T) {
	log := filepath.Join(t.TempDir(), "console.log")
	calls := 0
	s := &hostSampler{node: "bare", console: log, view: func(context.Context) (machine.HostView, error) {
		calls++
		return machine.HostView{RSSKiB: int64(1000 * calls), PSSKiB: int64(900 * calls), BalloonKiB: map[string]int64{"actual": 1048576}}, nil
	}}
	write := func(flag int, text string) {
		t.Helper()
		f, err := os.OpenFile(log, flag|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	write(os.O_TRUNC, "[   12.1] random: crng init done\nfootprint: node=bare phase=idle status=started uptime=60.0\nfootprint: node=bare sample phase=idle uptime=60.1 usedKiB=170000 memTotalKiB=996000\nfootprint: node=bare-r2 sample phase=idle upt")
	s.poll(ctx)
	write(os.O_APPEND, "ime=61.0 usedKiB=1 memTotalKiB=2\nfootprint: node=bare sample phase=idle uptime=65.1 usedKiB=171000 memTotalKiB=996000\nfootprint: node=bare sam")
	s.poll(ctx)
	s.poll(ctx) // nothing new
	write(os.O_TRUNC, "footprint: node=bare sample phase=workload uptime=99.5 usedKiB=1 memTotalKiB=2\n")
	s.poll(ctx)

	if len(s.samples) != 3 {
		t.Fatalf("%d host samples, want 3: %+v", len(s.samples), s.samples)
	}
	want := []struct {
		phase  results.PhaseName
		uptime float64
		rss    int64
	}{{results.PhaseIdle, 60.1, 1000}, {results.PhaseIdle, 65.1, 2000}, {results.PhaseWorkload, 99.5, 3000}}
	for i, w := range want {
		got := s.samples[i]
		if got.Phase != w.phase || got.GuestUptimeSeconds != w.uptime || got.RSSKiB != w.rss || got.PSSKiB != w.rss*9/10 || got.BalloonKiB["actual"] != 1048576 {
			t.Errorf("sample %d: %+v, want %+v", i, got, w)
		}
	}
}

// A backend that cannot see the machine's process costs nothing.
func TestNoHostViewWithoutTheCapability(t *testing.T) {
	stop := watchHost(context.Background(), machine.Machine{ConsoleLog: "/nonexistent"})
	if got := stop(); got != nil {
		t.Errorf("samples without a HostView: %v", got)
	}
}
