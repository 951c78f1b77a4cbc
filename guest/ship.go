package guest

import (
	"regexp"
	"strings"
)

// heredocStart finds a here-document on a line: <<WORD, <<-WORD, <<'WORD'.
var heredocStart = regexp.MustCompile(`<<(-?)\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?`)

// Shipped is a shell script as a guest gets it: without its comment lines
// (a line whose first non-blank character is #, but the #! line and the
// text of here-documents, which are data). The comments are for the reader
// of the repository; in user-data they cost bytes a cloud caps (EC2 takes
// 16 KB, compressed, for everything a node gets) and that every guest
// writes. The agent's tests run the shipped form, and a syntax check
// covers every shipped script.
func Shipped(script string) string {
	lines := strings.SplitAfter(script, "\n")
	out := make([]string, 0, len(lines))
	end, tabs := "", false
	for i, l := range lines {
		if end != "" {
			out = append(out, l)
			body := strings.TrimRight(l, "\n")
			if tabs {
				body = strings.TrimLeft(body, "\t")
			}
			if body == end {
				end = ""
			}
			continue
		}
		if t := strings.TrimLeft(l, " \t"); strings.HasPrefix(t, "#") && !(i == 0 && strings.HasPrefix(l, "#!")) {
			continue
		}
		out = append(out, l)
		if m := heredocStart.FindStringSubmatch(l); m != nil {
			end, tabs = m[2], m[1] == "-"
		}
	}
	return strings.Join(out, "")
}
