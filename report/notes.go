package report

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/footprint-dev/footprint/results"
)

// factLabels say in words what a node's facts (results.Result.Facts) are;
// a fact not listed is printed under its own name.
var factLabels = map[string]string{
	"preflightIgnored":  "preflight checks ignored",
	"preflightWarnings": "preflight warnings",
}

// maxFactRunes bounds one fact in report.md; results.json keeps it whole.
const maxFactRunes = 300

// writeNotes lists, under a size's table, the facts its nodes reported,
// one line each: "kubeadm-1024m: preflight checks ignored: NumCPU, Mem".
func writeNotes(b *strings.Builder, groups []Group) {
	var lines []string
	for _, g := range groups {
		for _, r := range g.Nodes {
			lines = append(lines, noteLines(r)...)
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\nNotes from the nodes:\n\n")
	for _, l := range lines {
		b.WriteString("- " + l + "\n")
	}
}

// noteLines are a node's facts, the labelled ones first in label order,
// then the others by name.
func noteLines(r results.Result) []string {
	keys := make([]string, 0, len(r.Facts))
	for k := range r.Facts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		_, li := factLabels[keys[i]]
		_, lj := factLabels[keys[j]]
		if li != lj {
			return li
		}
		return keys[i] < keys[j]
	})
	var out []string
	for _, k := range keys {
		v := factText(r.Facts[k])
		if v == "" {
			continue
		}
		label, ok := factLabels[k]
		if !ok {
			label = factText(k)
		}
		out = append(out, factText(r.Node)+": "+label+": "+v)
	}
	return out
}

var (
	space    = regexp.MustCompile(`\s+`)
	nameList = regexp.MustCompile(`^[\w.-]+(,[\w.-]+)+$`)
	// What could turn a fact's text into markup: emphasis, code, HTML.
	markup = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", `\<`)
)

// factText makes an agent's string one line of plain Markdown text: white
// space (newlines too) folded, a list of names spaced ("NumCPU, Mem"),
// markup escaped, and at most maxFactRunes long.
func factText(s string) string {
	s = strings.TrimSpace(space.ReplaceAllString(s, " "))
	if nameList.MatchString(s) {
		s = strings.ReplaceAll(s, ",", ", ")
	}
	if utf8.RuneCountInString(s) > maxFactRunes {
		s = string([]rune(s)[:maxFactRunes]) + "…"
	}
	return markup.Replace(s)
}
