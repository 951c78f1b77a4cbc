package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/footprint-dev/footprint/infra/machine"
)

// One run of a stack at a time: a second `footprint run`, `destroy` or
// `cleanup` of a stack whose run is live would otherwise fail on Pulumi's
// lock and fall back to removing the stack's objects by name, the live
// run's machines among them. Each command therefore takes the stack's lock
// file before anything else, and gives it back when it ends.

// lockInfo is what a stack's lock file says of the command holding it.
type lockInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	StartedAt time.Time `json:"startedAt"`
	RunDir    string    `json:"runDir,omitempty"`
	Command   string    `json:"command"`
	// ProcStart is the process's start in clock ticks after boot (field 22
	// of /proc/PID/stat): with the pid it names one process, so that a pid
	// the kernel gave to another program after a crash is told apart.
	ProcStart string `json:"procStart,omitempty"`
	// PIDNamespace is the holder's (/proc/self/ns/pid): a pid is checked
	// only from the namespace it was given in.
	PIDNamespace string `json:"pidNamespace,omitempty"`
}

// checkable says whether held's process can be looked at from here (me).
func (held lockInfo) checkable(me lockInfo) bool {
	return held.Host == me.Host && held.PIDNamespace == me.PIDNamespace
}

// String names the holder in one line, for the user to find it.
func (l lockInfo) String() string {
	s := fmt.Sprintf("%s (pid %d on host %s, started %s", l.Command, l.PID, l.Host, l.StartedAt.Format(time.RFC3339))
	if l.RunDir != "" {
		s += ", run folder " + l.RunDir
	}
	return s + ")"
}

// InUseError refuses a command because another one holds the stack.
type InUseError struct {
	Stack  string
	Holder lockInfo
	Path   string // the lock file
	Remote bool   // the holder runs on another host
}

func (e *InUseError) Error() string {
	if e.Remote {
		return fmt.Sprintf("stack %s is locked by %s, which cannot be checked from here (another host or pid namespace): once it is known to have ended, remove %s", e.Stack, e.Holder, e.Path)
	}
	return fmt.Sprintf("stack %s is in use by %s: wait for it to end or stop it", e.Stack, e.Holder)
}

// stackLock is a lock this process holds.
type stackLock struct {
	stack string
	path  string
	info  lockInfo
}

// locks are the stack locks a command holds: one, or every stack's for
// `cleanup --all`.
type locks []*stackLock

func lockPath(projectDir, stack string) string {
	return filepath.Join(StateDir(projectDir), "locks", stack+".lock")
}

// lockStack takes the lock of stack for command, taking over one whose
// holder ended without giving it back (warn says so), or refuses with an
// *InUseError naming the holder.
func lockStack(projectDir, stack, command string, warn func(string)) (*stackLock, error) {
	if filepath.Base(stack) != stack || stack == "." || stack == ".." {
		return nil, fmt.Errorf("stack %q: a stack's name is a file name, without folders", stack)
	}
	path := lockPath(projectDir, stack)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("locking stack %s: %w", stack, err)
	}
	me, err := myLockInfo(command)
	if err != nil {
		return nil, fmt.Errorf("locking stack %s: %w", stack, err)
	}
	// Two commands finding the same stale lock must not both take it over:
	// deciding and taking happen under an flock the kernel drops with its
	// process.
	unguard, err := guard(path + ".guard")
	if err != nil {
		return nil, fmt.Errorf("locking stack %s: %w", stack, err)
	}
	defer unguard()
	l := &stackLock{stack: stack, path: path, info: me}
	for {
		err := createExclusive(path, me)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("locking stack %s: %w", stack, err)
		}
		held, err := readLock(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // given back since: take it
		}
		if err != nil {
			return nil, fmt.Errorf("stack %s: lock %s is unreadable (%w): once no command of the stack runs, remove it", stack, path, err)
		}
		why, stale := staleLock(held, me)
		if !stale {
			return nil, &InUseError{Stack: stack, Holder: held, Path: path, Remote: !held.checkable(me)}
		}
		warn(fmt.Sprintf("stack %s: taking over the lock of %s: %s", stack, held, why))
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("stack %s: removing the stale lock: %w", stack, err)
		}
	}
}

// lockStacks takes the lock of every stack, or none of them.
func lockStacks(projectDir string, stacks []string, command string, warn func(string)) (locks, error) {
	var held locks
	for _, s := range stacks {
		l, err := lockStack(projectDir, s, command, warn)
		if err != nil {
			held.release()
			return nil, err
		}
		held = append(held, l)
	}
	return held, nil
}

// knownStacks are the stacks a command over all of them must lock: those
// with a stack file (the only ones a run can start) and those with a lock.
func knownStacks(projectDir string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(pattern, prefix, suffix string) {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), prefix), suffix)
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	add(filepath.Join(projectDir, "stacks", "Pulumi.*.yaml"), "Pulumi.", ".yaml")
	add(filepath.Join(StateDir(projectDir), "locks", "*.lock"), "", ".lock")
	return out
}

// record adds the run folder to the lock, for whoever is refused to find it.
func (l *stackLock) record(runDir string) error {
	l.info.RunDir = runDir
	data, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, l.path)
}

// check says whether the lock is still this process's: a sweep by name
// must never run once another command may have taken the stack.
func (l *stackLock) check() error {
	held, err := readLock(l.path)
	if err == nil && held.PID == l.info.PID && held.Host == l.info.Host && held.ProcStart == l.info.ProcStart {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stack %s: this command's lock %s is gone: %w", l.stack, l.path, err)
	}
	return fmt.Errorf("stack %s: its lock is held by %s, not by this command", l.stack, held)
}

// release removes the lock where it is still this process's.
func (l *stackLock) release() {
	if l.check() == nil {
		os.Remove(l.path)
	}
}

func (ls locks) release() {
	for _, l := range ls {
		l.release()
	}
}

func (ls locks) check() error {
	if len(ls) == 0 {
		return errors.New("no stack lock is held")
	}
	for _, l := range ls {
		if err := l.check(); err != nil {
			return err
		}
	}
	return nil
}

// sweep removes objects by name (prefix) only while every lock is this
// process's: a sweep cannot tell a live run's machines from leftovers.
func (ls locks) sweep(ctx context.Context, b machine.Backend, prefix string, say func(string, ...any)) ([]string, error) {
	if err := ls.check(); err != nil {
		return nil, fmt.Errorf("not sweeping: %w", err)
	}
	return b.Sweep(ctx, prefix, say)
}

// staleLock says whether the holder is gone: only a holder on this host,
// in this pid namespace, can be checked, and one elsewhere is never taken
// over.
func staleLock(held, me lockInfo) (string, bool) {
	if !held.checkable(me) {
		return "", false
	}
	err := syscall.Kill(held.PID, 0)
	if errors.Is(err, syscall.ESRCH) {
		return fmt.Sprintf("process %d has ended", held.PID), true
	}
	// EPERM: the process lives, under another user.
	if start, err := procStart(held.PID); err == nil && held.ProcStart != "" && start != held.ProcStart {
		return fmt.Sprintf("process %d has ended and its pid is another program's now", held.PID), true
	}
	return "", false
}

func myLockInfo(command string) (lockInfo, error) {
	host, err := os.Hostname()
	if err != nil {
		return lockInfo{}, err
	}
	start, err := procStart(os.Getpid())
	if err != nil {
		return lockInfo{}, err
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return lockInfo{}, err
	}
	return lockInfo{PID: os.Getpid(), Host: host, StartedAt: time.Now().UTC(), Command: command, ProcStart: start, PIDNamespace: ns}, nil
}

// procStart is field 22 of /proc/PID/stat, the process's start after boot.
// The second field, the program's name in parentheses, may hold blanks and
// parentheses itself: the fields are counted after its last ')'.
func procStart(pid int) (string, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", err
	}
	const after = 22 - 3 // fields 1 and 2 end at the ')'
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return "", fmt.Errorf("/proc/%d/stat: no program name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) <= after {
		return "", fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return fields[after], nil
}

// createExclusive writes the lock whole or not at all, and never over
// another one: it is written aside and linked into place.
func createExclusive(path string, info lockInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

func readLock(path string) (lockInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return lockInfo{}, err
	}
	var l lockInfo
	if err := json.Unmarshal(data, &l); err != nil {
		return lockInfo{}, err
	}
	if l.PID <= 0 || l.Host == "" {
		return lockInfo{}, errors.New("no pid or host")
	}
	return l, nil
}

// guard holds an flock on path until the returned function is called.
func guard(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing drops the flock
}
