// Package progress shows what each node is doing during a run: on a
// terminal, one line per node redrawn in place; elsewhere (CI logs), one
// plain line per change; for scripts, one JSON object per event; or nothing.
//
// A few dozen lines of ANSI redraw instead of a TUI library: bubbletea and
// its kin take over the terminal's input, and with it the Ctrl-C that must
// reach the runner so it can tear down.
package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/footprint-dev/footprint/results"
)

// Mode selects the rendering.
type Mode int

const (
	Plain Mode = iota // a line per change: logs, CI
	TTY               // a line per node, redrawn in place
	JSON              // a JSON object per event
	Quiet             // nothing
)

// Tracker holds each node's state and renders it.
type Tracker struct {
	mu      sync.Mutex
	out     io.Writer
	mode    Mode
	start   time.Time
	now     func() time.Time
	nodes   map[string]*node
	order   []string
	drawn   int // lines drawn last time (TTY)
	lastRow map[string]string
}

type node struct {
	// phase is the agent's phase, or phaseCreating or phaseBooting before
	// the agent speaks.
	phase results.PhaseName
	// status is the agent's last word on the phase, or statusSampling, or
	// on the api line the API's verdict.
	status results.Status
	since  time.Time
	detail string
}

// A node's phase before its agent speaks: its machine is being created,
// then its guest boots.
const (
	phaseCreating results.PhaseName = "creating"
	phaseBooting  results.PhaseName = "booting"
)

// statusSampling is a node's status while its agent takes samples.
const statusSampling results.Status = "sampling"

// New starts tracking the given nodes.
func New(out io.Writer, mode Mode, nodes []string) *Tracker {
	t := &Tracker{out: out, mode: mode, now: time.Now, nodes: map[string]*node{}, lastRow: map[string]string{}}
	t.start = t.now()
	for _, n := range nodes {
		t.nodes[n] = &node{phase: phaseCreating, since: t.start}
		t.order = append(t.order, n)
	}
	sort.Strings(t.order)
	return t
}

// Console takes a line from a node's serial console.
func (t *Tracker) Console(nodeName, line string) {
	phase, status, detail := parse(line)
	t.update(nodeName, phase, status, detail)
}

// Result marks a node as done.
func (t *Tracker) Result(r results.Result) {
	detail := ""
	if s, ok := r.Summarize(results.PhaseIdle); ok {
		detail = fmt.Sprintf("used %.0f MiB idle", s.UsedMiB)
		if w, ok := r.Summarize(results.PhaseWorkload); ok {
			detail += fmt.Sprintf(", %.0f MiB with the workload", w.UsedMiB)
		}
	}
	if r.API != nil {
		detail += ", API " + string(r.API.Verdict)
	}
	t.update(r.Node, results.PhaseDone, r.Status, detail)
}

// Note reports a run-level event (up, destroy) in every mode but TTY,
// where it is printed above the node lines.
func (t *Tracker) Note(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch t.mode {
	case Quiet:
	case JSON:
		t.emit(map[string]any{"event": "note", "message": msg})
	case TTY:
		t.clear()
		fmt.Fprintf(t.out, "%s %s\n", t.clock(), msg)
		t.draw()
	default:
		fmt.Fprintf(t.out, "%s %s\n", t.clock(), msg)
	}
}

// Tick redraws elapsed times on a terminal; call it every second or so.
func (t *Tracker) Tick() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mode == TTY {
		t.clear()
		t.draw()
	}
}

func (t *Tracker) update(name string, phase results.PhaseName, status results.Status, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.nodes[name]
	if !ok {
		n = &node{since: t.now()}
		t.nodes[name] = n
		t.order = append(t.order, name)
		sort.Strings(t.order)
	}
	if phase == "" {
		phase = n.phase
		if phase == phaseCreating {
			phase = phaseBooting
		}
	}
	if phase != n.phase {
		n.since = t.now()
	}
	n.phase, n.status = phase, status
	if detail != "" {
		n.detail = detail
	}
	switch t.mode {
	case Quiet:
	case JSON:
		t.emit(map[string]any{"event": "node", "node": name, "phase": n.phase, "status": n.status, "detail": n.detail,
			"elapsedSeconds": t.now().Sub(t.start).Seconds()})
	case TTY:
		t.clear()
		t.draw()
	default:
		row := t.row(name, n)
		if row != t.lastRow[name] { // a changed elapsed time alone is no news
			t.lastRow[name] = row
			fmt.Fprintf(t.out, "%s %s\n", t.clock(), row)
		}
	}
}

func (t *Tracker) emit(v map[string]any) {
	v["time"] = t.now().UTC().Format(time.RFC3339)
	b, _ := json.Marshal(v)
	fmt.Fprintf(t.out, "%s\n", b)
}

func (t *Tracker) row(name string, n *node) string {
	s := fmt.Sprintf("%-16s %-16s", name, n.phase)
	if n.status != "" && n.status != results.StatusStarted {
		s += " " + string(n.status)
	}
	if n.detail != "" {
		s += "  " + n.detail
	}
	return strings.TrimRight(s, " ")
}

func (t *Tracker) clock() string {
	d := t.now().Sub(t.start).Round(time.Second)
	return fmt.Sprintf("[%02d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
}

// draw writes one line per node with the time spent in its phase.
func (t *Tracker) draw() {
	for _, name := range t.order {
		n := t.nodes[name]
		in := t.now().Sub(n.since).Round(time.Second)
		fmt.Fprintf(t.out, "\x1b[2K%s %s (%s)\n", t.clock(), t.row(name, n), in)
	}
	t.drawn = len(t.order)
}

func (t *Tracker) clear() {
	if t.drawn > 0 {
		fmt.Fprintf(t.out, "\x1b[%dA\x1b[J", t.drawn)
		t.drawn = 0
	}
}

// parse reads the agent's console line "footprint: node=X phase=P status=S
// ..." or "... sample phase=P ..."; other lines mean the guest is booting.
func parse(line string) (phase results.PhaseName, status results.Status, detail string) {
	i := strings.Index(line, results.ConsolePrefix)
	if i < 0 {
		return "", "", ""
	}
	fields := map[string]string{}
	words := strings.Fields(line[i+len(results.ConsolePrefix):])
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok {
			fields[k] = v
		}
	}
	switch {
	case len(words) > 1 && words[1] == "fact":
		return "", "", ""
	case len(words) > 1 && words[1] == "sample":
		return results.PhaseName(fields["phase"]), statusSampling, ""
	case len(words) > 1 && words[1] == "api":
		return results.PhaseAPI, results.Status(fields["verdict"]), ""
	case len(words) > 1 && words[1] == "serving":
		return results.PhaseDone, "", ""
	}
	if results.PhaseName(fields["phase"]) == results.PhaseAgent {
		return results.PhaseBoot, results.StatusOK, ""
	}
	return results.PhaseName(fields["phase"]), results.Status(fields["status"]), ""
}
