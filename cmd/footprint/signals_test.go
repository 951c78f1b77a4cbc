package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// A run whose output reader went away must still tear down: the CLI does
// not die of SIGPIPE when it writes to a closed pipe.
func TestAClosedOutputDoesNotKillTheCLI(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "footprint")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody reads
	cmd := exec.Command(bin, "profiles")
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	w.Close()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("the CLI was killed by %v writing to a closed pipe", ws.Signal())
		}
	}
}
