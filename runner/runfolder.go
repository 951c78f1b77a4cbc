package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/report"
	"github.com/footprint-dev/footprint/results"
)

// Nothing measured is ever replaced in a run folder. A node's files are
// named after its attempt: NODE.json in nodes/, NODE.console.log, ... for
// its first, NODE.2.json, NODE.2.console.log, ... when it runs again (a
// resume after a timeout), each put in place only where the name is free;
// the run's record names the result it shows (record.Run.ResultFiles).

// nodesDir holds each node's result the moment it arrives.
const nodesDir = "nodes"

// runFolder writes a run's measured files.
type runFolder struct {
	dir     string
	say     func(string, ...any)
	mu      sync.Mutex
	attempt map[string]int // node -> the attempt its files of this wave take
	// got are the results of this wave's nodes as the program handed them
	// over, each with the file it was saved in ("" where saving failed).
	got map[string]savedResult
}

func newRunFolder(dir string, say func(string, ...any)) *runFolder {
	return &runFolder{dir: dir, say: say, attempt: map[string]int{}, got: map[string]savedResult{}}
}

// begin starts a wave: each of its nodes takes the attempt after the last
// one the folder holds files of, and has no result yet.
func (f *runFolder) begin(specs []machine.Spec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range specs {
		f.attempt[s.Node] = nextAttempt(f.dir, s.Node)
		delete(f.got, s.Node)
	}
}

// arrived is the result of a node of this wave, if the program handed one
// over, and the file it was saved in.
func (f *runFolder) arrived(node string) (savedResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.got[node]
	return r, ok
}

func (f *runFolder) attemptOf(node string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(f.attempt[node], 1)
}

// saveResult keeps a node's result and writes it into nodes/ as it
// arrives.
func (f *runFolder) saveResult(r results.Result) {
	data, err := json.MarshalIndent(r, "", "  ")
	path := ""
	if err == nil {
		path, err = place(filepath.Join(f.dir, nodesDir), r.Node, f.attemptOf(r.Node), "json", append(data, '\n'))
	}
	if err != nil {
		f.say("%s: could not save the result in %s: %v", r.Node, filepath.Join(f.dir, nodesDir), err)
	}
	file := ""
	if path != "" {
		file = filepath.Join(nodesDir, filepath.Base(path))
	}
	f.mu.Lock()
	f.got[r.Node] = savedResult{result: r, file: file, attempt: f.attempt[r.Node]}
	f.mu.Unlock()
}

// record saves what the backend kept of a node's machine (its console, its
// definition) under the node's attempt names and returns the console's
// path, "" for none. The backend writes into a folder of its own first:
// it names its files NODE.<kind> and would replace an earlier attempt's.
func (f *runFolder) record(ctx context.Context, rec machine.Recorder, s machine.Spec) string {
	scratch, err := os.MkdirTemp(f.dir, ".record-")
	if err != nil {
		f.say("%s: could not record its machine: %v", s.Node, err)
		return ""
	}
	defer os.RemoveAll(scratch)
	console := rec.Record(ctx, s, scratch)
	entries, _ := os.ReadDir(scratch)
	saved := ""
	for _, e := range entries {
		kind, ok := strings.CutPrefix(e.Name(), s.Node+".")
		if !ok {
			continue
		}
		src := filepath.Join(scratch, e.Name())
		dst, err := linkFree(src, f.dir, s.Node, f.attemptOf(s.Node), kind)
		if err != nil {
			f.say("%s: could not save %s: %v", s.Node, e.Name(), err)
		} else if src == console {
			saved = dst
		}
	}
	return saved
}

// attemptName is the file of a node's attempt n: NODE.KIND, NODE.N.KIND.
func attemptName(node string, n int, kind string) string {
	if n <= 1 {
		return node + "." + kind
	}
	return node + "." + strconv.Itoa(n) + "." + kind
}

// attemptOfFile is the attempt a file name of node gives, where it is one
// of node's (a node's name holds no dot, so "bare." never names "bare-r1").
func attemptOfFile(name, node string) (int, bool) {
	rest, ok := strings.CutPrefix(name, node+".")
	if !ok {
		return 0, false
	}
	first, _, more := strings.Cut(rest, ".")
	if n, err := strconv.Atoi(first); err == nil && more && n > 1 {
		return n, true
	}
	return 1, true
}

// nextAttempt is the attempt after the last one dir holds files of.
func nextAttempt(dir, node string) int {
	last := 0
	for _, d := range []string{dir, filepath.Join(dir, nodesDir)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if n, ok := attemptOfFile(e.Name(), node); ok {
				last = max(last, n)
			}
		}
	}
	return last + 1
}

// place writes data whole into dir as node's attempt n of kind, or the
// next free attempt's name: never over a file that exists.
func place(dir, node string, n int, kind string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, record.DirMode); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "."+node+".*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return linkFree(tmp.Name(), dir, node, n, kind)
}

// linkFree links src into dir under the first free name of node's attempts
// from n on; a link, unlike a rename, fails where the name is taken.
func linkFree(src, dir, node string, n int, kind string) (string, error) {
	for ; ; n++ {
		dst := filepath.Join(dir, attemptName(node, n, kind))
		err := os.Link(src, dst)
		if err == nil {
			return dst, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
}

// savedResult is a node's result read back from nodes/.
type savedResult struct {
	result  results.Result
	file    string // relative to the run folder
	attempt int
}

// savedResults are the results in the folder's nodes/, the latest attempt's
// of each node.
func savedResults(dir string) (map[string]savedResult, error) {
	entries, err := os.ReadDir(filepath.Join(dir, nodesDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]savedResult{}
	for _, e := range entries {
		node, _, _ := strings.Cut(e.Name(), ".")
		n, _ := attemptOfFile(e.Name(), node)
		if !isResultFile(e.Name()) || n < out[node].attempt {
			continue
		}
		r, err := readSaved(dir, e.Name(), node)
		if err != nil {
			return nil, err
		}
		out[node] = savedResult{result: r, file: filepath.Join(nodesDir, e.Name()), attempt: n}
	}
	return out, nil
}

// isResultFile: NODE[.N].json, not a file being written (.NODE.*.tmp).
func isResultFile(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".")
}

func readSaved(dir, name, node string) (results.Result, error) {
	path := filepath.Join(dir, nodesDir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return results.Result{}, err
	}
	var r results.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return results.Result{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := names.CheckNode(node); err != nil {
		return results.Result{}, fmt.Errorf("%s: %w", path, err)
	}
	if r.Node != node {
		return results.Result{}, fmt.Errorf("%s: the result of node %q, not %q", path, r.Node, node)
	}
	return r, nil
}

// readBack puts into a resumed run's record every finding its folder saved
// that the record lacks: a run killed before its wave was recorded left
// the result in nodes/ only, and the record has nothing, a placeholder or
// an earlier attempt of the node. A saved timeout is no finding: its node runs
// again. It returns the nodes read back.
func readBack(run *record.Run, dir string) ([]string, error) {
	saved, err := savedResults(dir)
	if err != nil {
		return nil, err
	}
	var back []string
	for node, s := range saved {
		i := slices.IndexFunc(run.Nodes, func(r results.Result) bool { return r.Node == node })
		if !done(s.result) || i >= 0 && done(run.Nodes[i]) {
			continue
		}
		merge(run, []results.Result{s.result})
		setResultFile(run, node, s.file)
		back = append(back, node)
	}
	return back, nil
}

func setResultFile(run *record.Run, node, file string) {
	if run.ResultFiles == nil {
		run.ResultFiles = map[string]string{}
	}
	run.ResultFiles[node] = file
}

// openPulumiLog appends to the folder's pulumi.log: a resume's output goes
// after the earlier attempts', under a line that says so.
func openPulumiLog(dir, runID string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "pulumi.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, record.FileMode)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err == nil && info.Size() > 0 {
		fmt.Fprintf(f, "\n===== footprint run --resume of run %s, %s: Pulumi's output from here on =====\n", runID, time.Now().UTC().Format(time.RFC3339))
	}
	return f, nil
}

// readBackSaved is readBack for Run, which says what it read back.
func readBackSaved(o Options, run *record.Run, runDir string) error {
	back, err := readBack(run, runDir)
	if err != nil {
		return fmt.Errorf("--resume %s: %w", o.Resume, err)
	}
	if len(back) > 0 {
		slices.Sort(back)
		o.Log.Info(fmt.Sprintf("--resume: the results of %s were saved in %s before the earlier run could record them: read back, not run again",
			strings.Join(back, ", "), filepath.Join(runDir, nodesDir)))
	}
	return nil
}

// writeRecord stores the run's record in its folder and renders the folder
// from it: the record first, so that a rendering that fails loses nothing
// measured.
func writeRecord(dir string, run record.Run) error {
	if err := record.Write(dir, run); err != nil {
		return err
	}
	return report.Render(dir, run)
}
