package results

import (
	"strings"
	"testing"
)

func TestLastLinePrefersTheAgentAndStripsTerminalCodes(t *testing.T) {
	log := "[    4.4] ACPI: enabled\r\n" +
		"\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39msystemd-hostnamed.service\x1b[0m - Hostname Service.\r\n" +
		"footprint: node=bare phase=settle status=ok uptime=75.1\r\n" +
		"[   80.1] random: crng init done\r\n\r\n"
	if got := lastLine(strings.NewReader(log)); got != "footprint: node=bare phase=settle status=ok uptime=75.1" {
		t.Errorf("got %q", got)
	}
	boot := "\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mcloud-init.service\x1b[0m.\r\n"
	if got := lastLine(strings.NewReader(boot)); got != "OK  ] Started cloud-init.service." {
		t.Errorf("got %q", got)
	}
	if got := LastConsoleLine(""); got != "" {
		t.Errorf("no log: %q", got)
	}
}
