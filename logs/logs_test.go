package logs

import (
	"bytes"
	"testing"
)

func TestLinesAndDiversion(t *testing.T) {
	var out bytes.Buffer
	l := New(&out)
	l.Info("destroyed", "seconds", 2.5)
	Printf(l)("removed %s", "domain footprint-ci-bare")
	var diverted []string
	restore := Divert(l.With("stack", "ci"), func(s string) { diverted = append(diverted, s) })
	l.Warn("up failed")
	restore()
	l.Info("after")
	want := "footprint: destroyed seconds=2.5\nfootprint: removed domain footprint-ci-bare\nfootprint: after\n"
	if out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
	if len(diverted) != 1 || diverted[0] != "warn: up failed" {
		t.Errorf("diverted %q, want the one line written while diverted", diverted)
	}
}
