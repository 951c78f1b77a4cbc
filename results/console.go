package results

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// ConsolePrefix starts every line the agent prints on the serial console.
const ConsolePrefix = "footprint: "

// LastConsoleLine returns the agent's last line in a console log, or the
// log's last non-empty line when the agent never spoke, so that an error can
// say how far the guest got. Missing files give "".
func LastConsoleLine(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	return lastLine(f)
}

func lastLine(r io.Reader) string {
	var agent, any string
	eachLine(r, func(line string) {
		any = line
		if i := strings.Index(line, ConsolePrefix); i >= 0 {
			agent = line[i:]
		}
	})
	if agent != "" {
		return agent
	}
	return any
}

// eachLine calls fn with every non-empty console line, cleaned of terminal
// codes.
func eachLine(r io.Reader, fn func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if line := strings.TrimSpace(strings.Map(printable, ansi.ReplaceAllString(sc.Text(), ""))); line != "" {
			fn(line)
		}
	}
}

// ansi matches the colour and cursor sequences systemd writes to a console.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// printable drops terminal control characters the serial console carries.
func printable(r rune) rune {
	if r < 0x20 && r != '\t' {
		return -1
	}
	return r
}

// ConsoleTail returns the last n non-empty lines of a console log, cleaned
// of terminal codes: what a failed node's record keeps of its console.
func ConsoleTail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var tail []string
	eachLine(f, func(line string) {
		tail = append(tail, line)
		if len(tail) > n {
			tail = tail[1:]
		}
	})
	return tail
}

// FromConsole rebuilds what it can of a node's result from the agent's lines
// on the serial console: the phases it finished, the samples' used and total
// memory, the API verdict, OOM counts and the hooks' facts. It is the fallback for a guest whose
// result never arrived over the network (thrashing, or its network gone), so
// the status is always unresponsive. ok is false when the agent never spoke.
func FromConsole(path, node string) (Result, bool) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, false
	}
	defer f.Close()
	r := Result{SchemaVersion: AgentSchemaVersion, Node: node, Status: StatusUnresponsive,
		Detail: "rebuilt from the serial console: the agent's result never arrived over the network"}
	prefix := ConsolePrefix + "node=" + node + " "
	spoke := false
	eachLine(f, func(line string) {
		i := strings.Index(line, prefix)
		if i < 0 {
			return
		}
		spoke = true
		rest := strings.TrimSpace(line[i+len(prefix):])
		kind, fields := parseFields(rest)
		switch kind {
		case "fact":
			// "fact KEY=VALUE", the value to the end of the line (it may hold blanks).
			if k, v, ok := strings.Cut(strings.TrimPrefix(rest, "fact "), "="); ok && k != "" {
				if r.Facts == nil {
					r.Facts = map[string]string{}
				}
				r.Facts[k] = v
			}
		case "phase":
			phase, status := PhaseName(fields["phase"]), Status(fields["status"])
			if status == StatusStarted || phase == PhaseAgent || phase == PhaseDone {
				return
			}
			r.Phases = append(r.Phases, Phase{Name: phase, Status: status, EndedAt: num(fields["uptime"])})
		case "sample":
			used, total := int64(num(fields["usedKiB"])), int64(num(fields["memTotalKiB"]))
			r.Samples = append(r.Samples, Sample{Phase: PhaseName(fields["phase"]), UptimeSeconds: num(fields["uptime"]), UsedKiB: used,
				MeminfoKiB: map[string]int64{"MemTotal": total, "MemAvailable": total - used}})
		case "api":
			r.API = &API{Verdict: APIVerdict(fields["verdict"]), Successes: int(num(fields["successes"]))}
		case "breakdown":
			r.Breakdowns = append(r.Breakdowns, Breakdown{Phase: PhaseName(fields["phase"]), OOMKills: int(num(fields["oomKills"]))})
		}
	})
	return r, spoke
}

// parseFields splits "phase=idle status=ok uptime=80.1" (kind "phase") or
// "sample phase=idle ..." (kind "sample") into its key=value fields.
func parseFields(s string) (string, map[string]string) {
	fields := map[string]string{}
	kind := ""
	for i, w := range strings.Fields(s) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			if i == 0 {
				kind = w
			}
			continue
		}
		if i == 0 {
			kind = k
		}
		fields[k] = v
	}
	return kind, fields
}

func num(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// SampleLine reads one console line: the phase and guest uptime of the
// node's agent's sample line, ok false for any other line.
func SampleLine(line, node string) (phase PhaseName, uptime float64, ok bool) {
	prefix := ConsolePrefix + "node=" + node + " "
	i := strings.Index(line, prefix)
	if i < 0 {
		return "", 0, false
	}
	kind, fields := parseFields(strings.TrimSpace(line[i+len(prefix):]))
	if kind != "sample" || fields["phase"] == "" {
		return "", 0, false
	}
	return PhaseName(fields["phase"]), num(fields["uptime"]), true
}

// kernelPanic starts the line a Linux kernel prints when it panics, e.g.
// "Kernel panic - not syncing: System is deadlocked on memory" from a guest
// too small to unpack its initramfs.
const kernelPanic = "Kernel panic - not syncing:"

// KernelPanic is the console's kernel panic line, from "Kernel panic" on,
// if the guest's kernel panicked: such a guest never answers, and waiting
// for it until the collection's deadline learns nothing more.
func KernelPanic(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	found := ""
	eachLine(f, func(line string) {
		if i := strings.Index(line, kernelPanic); i >= 0 && found == "" {
			found = line[i:]
		}
	})
	return found, found != ""
}
