package search

import (
	"fmt"
	"strings"

	"github.com/footprint-dev/footprint/results"
)

// Verdict is what a size, or one node at it, came to.
type Verdict string

const (
	// Pass: the machine worked (see Judge).
	Pass Verdict = "pass"
	// Fail: it did not, for the reasons recorded with it.
	Fail Verdict = "fail"
	// Undecided: no finding yet (never ran, interrupted, or the collector
	// gave up before the agent answered): the runner's rule for timeouts
	// holds, and --resume tries the size again.
	Undecided Verdict = "undecided"
)

// Judge is the verdict on one node's result and, for anything but a pass,
// every reason. A machine works when every phase ran (the agent finished
// with status ok, no phase failed or timed out), MySQL became ready
// (workloadReady ok, where the system runs it), the API answered every
// probe (where the system has one), and the kernel killed no process for
// lack of memory. A phase left unsettled does not fail it: it ran, its
// memory did not hold still.
func Judge(r results.Result) (Verdict, []string) {
	if !r.Final() || r.Status == results.StatusTimeout {
		return Undecided, []string{noResult(r)}
	}
	var why []string
	switch r.Status {
	case results.StatusOK:
	case results.StatusFailed:
		why = append(why, strings.TrimSpace("failed: "+r.Detail))
	case results.StatusUnresponsive:
		why = append(why, "unresponsive: its result never arrived over the network")
	default:
		why = append(why, "status "+string(r.Status))
	}
	why = append(why, phaseFailures(r)...)
	if r.API != nil && r.API.Verdict != results.APIResponsive {
		why = append(why, fmt.Sprintf("API %s (%d of %d probes answered)", r.API.Verdict, r.API.Successes, max(len(r.API.Attempts), r.API.Successes)))
	}
	if n, where := oomKills(r); n > 0 {
		why = append(why, fmt.Sprintf("OOM kills: %d (since boot, at the %s breakdown)", n, where))
	}
	if len(why) == 0 {
		return Pass, nil
	}
	return Fail, why
}

// noResult says why a node has no finding.
func noResult(r results.Result) string {
	if r.Collection != nil && r.Collection.Error != "" {
		return "no result: " + r.Collection.Error
	}
	if r.Status == "" {
		return "no result"
	}
	return "no result: status " + string(r.Status)
}

// phaseFailures name each phase that failed or timed out, e.g.
// "workloadReady timeout".
func phaseFailures(r results.Result) []string {
	var out []string
	for _, p := range r.Phases {
		if p.Status == results.StatusFailed || p.Status == results.StatusTimeout {
			out = append(out, string(p.Name)+" "+string(p.Status))
		}
	}
	return out
}

// oomKills is the kernel's count at the node's last breakdown (the agent
// counts since boot), and the phase it was taken in.
func oomKills(r results.Result) (int, results.PhaseName) {
	n, where := 0, results.PhaseName("")
	for _, b := range r.Breakdowns {
		if b.OOMKills >= n && b.OOMKills > 0 {
			n, where = b.OOMKills, b.Phase
		}
	}
	return n, where
}
