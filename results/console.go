package results

import (
	"bufio"
	"io"
	"os"
	"regexp"
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(strings.Map(printable, ansi.ReplaceAllString(sc.Text(), "")))
		if line == "" {
			continue
		}
		any = line
		if i := strings.Index(line, ConsolePrefix); i >= 0 {
			agent = line[i:]
		}
	}
	if agent != "" {
		return agent
	}
	return any
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
