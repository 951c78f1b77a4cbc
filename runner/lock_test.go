package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeLock puts a lock of stack t into the project as another command
// would have left it.
func writeLock(t *testing.T, dir string, l lockInfo) {
	t.Helper()
	data, err := json.Marshal(l)
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(lockPath(dir, "t")), 0o700))
	must(t, os.WriteFile(lockPath(dir, "t"), data, 0o600))
}

// liveHolder is a lock of a command that still runs: this test process,
// as the first `footprint run` of the stack.
func liveHolder(t *testing.T) lockInfo {
	me, err := myLockInfo("footprint run")
	must(t, err)
	me.StartedAt = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	me.RunDir = "/work/runs/20250304T050607Z-t"
	return me
}

// A second run, destroy or cleanup of a stack whose run is live is refused
// at once, in one line naming that run, and never reaches a sweep, a
// destroy or the stack; the live run's lock stays.
func TestASecondCommandOfALiveStackIsRefused(t *testing.T) {
	dir := testProject(t, "")
	first := liveHolder(t)
	writeLock(t, dir, first)
	fastRetries(t)
	b := &fakeBackend{leftovers: []string{"domain footprint-t-bare-r1"}}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1")}, destroyFails: -1}
	var out bytes.Buffer
	o := options(dir, b, s, &out)
	opened := false
	o.openStack = func(context.Context, Options) (Stack, error) { opened = true; return s, nil }
	commands := map[string]func() error{
		"run":     func() error { _, err := Run(context.Background(), o); return err },
		"destroy": func() error { return Destroy(context.Background(), o) },
		"cleanup": func() error { _, err := Cleanup(context.Background(), CleanupOptions{Options: o}); return err },
		"cleanup --all": func() error {
			_, err := Cleanup(context.Background(), CleanupOptions{Options: o, All: true})
			return err
		},
	}
	for name, command := range commands {
		err := command()
		var inUse *InUseError
		if !errors.As(err, &inUse) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: error %v, want one line refusing the stack", name, err)
		}
		for _, want := range []string{"stack t is in use by footprint run", "pid " + strconv.Itoa(first.PID), "on host " + first.Host, "started 2025-03-04T05:06:07Z", "run folder " + first.RunDir} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", name, err, want)
			}
		}
	}
	if len(b.swept) != 0 || s.destroys != 0 || opened {
		t.Errorf("swept %v, destroys %d, stack opened %v: the live run's machines were touched", b.swept, s.destroys, opened)
	}
	if held, err := readLock(lockPath(dir, "t")); err != nil || held != first {
		t.Errorf("the live run's lock is now %+v (%v)", held, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
		t.Errorf("a run folder was made: %v", err)
	}
}

// A lock whose process has ended on this host is taken over, and the user
// is told whose it was; the command then runs and gives the lock back.
func TestADeadRunsLockIsTakenOver(t *testing.T) {
	dir := testProject(t, "")
	dead := exec.Command("true")
	must(t, dead.Run())
	gone := liveHolder(t)
	gone.PID = dead.Process.Pid
	writeLock(t, dir, gone)
	b := &fakeBackend{leftovers: []string{"pool footprint-t"}}
	var out bytes.Buffer
	removed, err := Cleanup(context.Background(), CleanupOptions{Options: options(dir, b, &fakeStack{}, &out)})
	if err != nil || len(removed) != 1 || len(b.swept) != 1 {
		t.Fatalf("cleanup: removed %v, swept %v, err %v\n%s", removed, b.swept, err, out.String())
	}
	want := "warn: stack t: taking over the lock of footprint run (pid " + strconv.Itoa(gone.PID) + " on host " + gone.Host + ", started 2025-03-04T05:06:07Z, run folder " + gone.RunDir + "): process " + strconv.Itoa(gone.PID) + " has ended"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	if _, err := os.Stat(lockPath(dir, "t")); !os.IsNotExist(err) {
		t.Errorf("the lock was not given back: %v", err)
	}
}

// A pid the kernel gave to another program after the holder's crash does
// not keep the stack locked: its start time is not the holder's.
func TestALockWhosePidWasReusedIsTakenOver(t *testing.T) {
	dir := testProject(t, "")
	reused := liveHolder(t)
	reused.ProcStart = "1" // this process started later than that
	writeLock(t, dir, reused)
	var warned []string
	l, err := lockStack(dir, "t", "footprint destroy", func(m string) { warned = append(warned, m) })
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer l.release()
	if len(warned) != 1 || !strings.Contains(warned[0], "its pid is another program's now") {
		t.Errorf("warned %q", warned)
	}
}

// A lock from another host is never taken over: the error says which file
// to remove once that run is known to have ended.
func TestALockFromAnotherHostIsKept(t *testing.T) {
	dir := testProject(t, "")
	elsewhere := liveHolder(t)
	elsewhere.Host = "lab2.invalid"
	elsewhere.PID = 999999999 // no such process here, which says nothing of lab2
	writeLock(t, dir, elsewhere)
	_, err := lockStack(dir, "t", "footprint run", func(m string) { t.Errorf("warned %q", m) })
	var inUse *InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), "on host lab2.invalid") || !strings.Contains(err.Error(), "remove "+lockPath(dir, "t")) {
		t.Errorf("error %v, want the holder and the file to remove", err)
	}
}

// The lock is given back when a run ends, also on an error, and names the
// run folder while the run holds it.
func TestARunGivesItsLockBack(t *testing.T) {
	dir := testProject(t, "")
	b := &fakeBackend{}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	var out bytes.Buffer
	var during lockInfo
	s.afterUp = func() { during, _ = readLock(lockPath(dir, "t")) }
	got, err := Run(context.Background(), options(dir, b, s, &out))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if during.PID != os.Getpid() || during.RunDir != got.RunDir || during.Command != "footprint run" {
		t.Errorf("lock during the run: %+v", during)
	}
	b.preflightErr = errors.New("refused")
	if _, err := Run(context.Background(), options(dir, b, s, &out)); err == nil {
		t.Fatal("a refused pre-flight ran")
	}
	if _, err := os.Stat(lockPath(dir, "t")); !os.IsNotExist(err) {
		t.Errorf("the lock was not given back: %v", err)
	}
}

// A sweep by name runs only while the stack's lock is still the command's.
func TestNoSweepWithoutTheLock(t *testing.T) {
	dir := testProject(t, "")
	l, err := lockStack(dir, "t", "footprint destroy", func(string) {})
	must(t, err)
	other := liveHolder(t)
	other.ProcStart += "0" // another process's lock replaced ours
	writeLock(t, dir, other)
	b := &fakeBackend{}
	if _, err := (locks{l}).sweep(context.Background(), b, "footprint-t", func(string, ...any) {}); err == nil || len(b.swept) != 0 {
		t.Errorf("swept %v (error %v) under another's lock", b.swept, err)
	}
	l.release()
	if _, err := readLock(lockPath(dir, "t")); err != nil {
		t.Errorf("release removed another's lock: %v", err)
	}
}

// A holder in another pid namespace (a container sharing the checkout and
// the host's name) cannot be checked from here: its pid means nothing in
// ours, so its lock is never taken over.
func TestALockFromAnotherPidNamespaceIsKept(t *testing.T) {
	dir := testProject(t, "")
	dead := exec.Command("true")
	must(t, dead.Run())
	contained := liveHolder(t)
	contained.PID = dead.Process.Pid // gone here, which says nothing of the container
	contained.PIDNamespace = "pid:[1]"
	writeLock(t, dir, contained)
	_, err := lockStack(dir, "t", "footprint run", func(m string) { t.Errorf("warned %q", m) })
	var inUse *InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), "remove "+lockPath(dir, "t")) {
		t.Errorf("error %v, want the holder and the file to remove", err)
	}
}
