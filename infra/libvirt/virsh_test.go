package libvirt

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A virsh that never answers (a hung libvirtd, a stalled SSH connection
// under qemu+ssh) is ended at virshTimeout with what it started, and the
// error names the command and the host.
func TestVirshThatHangsIsEnded(t *testing.T) {
	defer func(old time.Duration) { virshTimeout = old }(virshTimeout)
	virshTimeout = 300 * time.Millisecond
	bin := t.TempDir()
	pidFile := filepath.Join(bin, "child.pid")
	// The child keeps virsh's output open, as ssh does for a remote URI.
	script := "#!/bin/sh\nsleep 60 &\necho $! >" + pidFile + "\nwait\n"
	must(t, os.WriteFile(filepath.Join(bin, "virsh"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	done := make(chan error, 1)
	go func() {
		_, err := Host{URI: "qemu+ssh://lab/system"}.virsh(context.Background(), "list", "--all", "--name")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "virsh list --all --name: qemu+ssh://lab/system: no answer within 300ms" {
			t.Errorf("err = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a virsh that never answers is still waited for")
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		if time.Now().After(end) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("virsh's child %d outlived it", pid)
		}
	}
}
