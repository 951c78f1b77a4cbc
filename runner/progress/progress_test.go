package progress

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

func script(t *testing.T, mode Mode) string {
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)}
	tr := New(&buf, mode, []string{"k3s", "bare"})
	tr.now = c.now
	tr.start = c.t
	for _, n := range tr.nodes {
		n.since = c.t
	}
	c.add(20 * time.Second)
	tr.Console("bare", "[   12.0] systemd[1]: Started Journal Service.")
	c.add(45 * time.Second)
	tr.Console("bare", "footprint: node=bare phase=boot status=ok uptime=64.7")
	tr.Console("bare", "footprint: node=bare phase=boot status=ok uptime=64.7") // repeated: no news
	c.add(5 * time.Second)
	tr.Console("k3s", "footprint: node=k3s phase=install status=started uptime=70.1")
	c.add(10 * time.Second)
	tr.Console("bare", "footprint: node=bare sample phase=idle uptime=80.0 usedKiB=171520 memTotalKiB=996556")
	tr.Tick()
	c.add(5 * time.Second)
	tr.Result(results.Result{Node: "bare", Status: results.StatusOK, Samples: []results.Sample{{Phase: "idle", UsedKiB: 171520, MeminfoKiB: map[string]int64{"MemTotal": 996556}}}})
	tr.Note("destroying")
	return buf.String()
}

func TestPlainLinesOnlyOnChange(t *testing.T) {
	got := script(t, Plain)
	want := []string{
		"[00:20] bare             booting",
		"[01:05] bare             boot             ok",
		"[01:10] k3s              install",
		"[01:20] bare             idle             sampling",
		"[01:25] bare             done             ok  used 168 MiB idle",
		"[01:25] destroying",
	}
	if strings.TrimSpace(got) != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if strings.Contains(got, "\x1b") {
		t.Error("terminal codes in plain output")
	}
}

func TestTTYRedrawsOneLinePerNode(t *testing.T) {
	got := script(t, TTY)
	// every redraw moves up over the two node lines and clears below
	if n := strings.Count(got, "\x1b[2A\x1b[J"); n < 6 {
		t.Errorf("%d redraws, want one per change and tick", n)
	}
	frames := strings.Split(got, "\x1b[2A\x1b[J")
	last := frames[len(frames)-1]
	for _, want := range []string{"[01:25] bare             done             ok  used 168 MiB idle (0s)", "[01:25] k3s              install (15s)"} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame lacks %q:\n%q", want, last)
		}
	}
	if !strings.Contains(got, "[01:25] destroying\n") {
		t.Error("notes are not printed above the node lines")
	}
}

func TestJSONEvents(t *testing.T) {
	got := script(t, JSON)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d events, want 7:\n%s", len(lines), got)
	}
	var last, done map[string]any
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if ev["phase"] == "done" {
			done = ev
		}
		last = ev
	}
	if done["node"] != "bare" || done["status"] != "ok" || done["elapsedSeconds"] != 85.0 {
		t.Errorf("done event %v", done)
	}
	if last["event"] != "note" || last["message"] != "destroying" {
		t.Errorf("last event %v", last)
	}
}

func TestQuietIsQuiet(t *testing.T) {
	if got := script(t, Quiet); got != "" {
		t.Errorf("quiet wrote %q", got)
	}
}
