package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/results"
)

// earlierRun is the folder of a run of stack t that recorded nodes as
// given and saved files (relative path -> content), as an up that failed
// or was interrupted leaves it.
func earlierRun(t *testing.T, dir string, nodes []map[string]any, files map[string]string) string {
	t.Helper()
	run := filepath.Join(dir, "runs", "20250101T000000Z-t")
	must(t, os.MkdirAll(filepath.Join(run, nodesDir), 0o755))
	doc, err := json.Marshal(map[string]any{"schemaVersion": 1, "id": "20250101T000000Z-t", "stack": "t", "startedAt": "2025-01-01T00:00:00Z", "nodes": nodes})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(run, record.File), doc, 0o644))
	for name, content := range files {
		must(t, os.WriteFile(filepath.Join(run, name), []byte(content), 0o644))
	}
	return run
}

// noOutput is the record of a node whose program handed over no result.
func noOutput(node string) map[string]any {
	return map[string]any{"node": node, "profile": "bare", "machine": map[string]any{"wave": 1.0}, "collection": map[string]any{"error": "the stack produced no output for this node"}}
}

func savedJSON(t *testing.T, r map[string]any) string {
	data, err := json.MarshalIndent(r, "", "  ")
	must(t, err)
	return string(data) + "\n"
}

// resumeOptions resume prev with a stack whose up hands each node's result
// to the program's OnResult, as a real one does.
func resumeOptions(dir, prev string, b *fakeBackend, s *fakeStack, out *bytes.Buffer) Options {
	o := options(dir, b, s, out)
	o.Resume = prev
	return o
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	return string(data)
}

// A resume reads back a result the earlier run saved in nodes/ before its
// up failed: that node is not planned again, its file stays byte for byte,
// and Pulumi's earlier log is kept above the resume's.
func TestResumeReadsBackASavedResult(t *testing.T) {
	dir := testProject(t, "")
	saved := savedJSON(t, okResult("bare-r1"))
	earlierLog := "Updating (t):\nerror: the host went away\n"
	prev := earlierRun(t, dir, []map[string]any{noOutput("bare-r1"), noOutput("bare-r2")},
		map[string]string{"nodes/bare-r1.json": saved, "pulumi.log": earlierLog})
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	var out bytes.Buffer
	got, err := Run(context.Background(), resumeOptions(dir, prev, &fakeBackend{}, s, &out))
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	if ups := slices.DeleteFunc(slices.Clone(s.events), func(e string) bool { return !strings.HasPrefix(e, "up") }); len(ups) != 1 || ups[0] != `up ["bare-r2"]` {
		t.Errorf("ups %q, want only bare-r2's", ups)
	}
	if readFile(t, filepath.Join(prev, "nodes", "bare-r1.json")) != saved {
		t.Error("nodes/bare-r1.json changed")
	}
	if !got.AllOK || got.Run.Nodes[0].Status != results.StatusOK || got.Run.ResultFiles["bare-r1"] != "nodes/bare-r1.json" {
		t.Errorf("record: AllOK %v, nodes %+v, files %v", got.AllOK, got.Run.Nodes, got.Run.ResultFiles)
	}
	if log := readFile(t, filepath.Join(prev, "pulumi.log")); !strings.HasPrefix(log, earlierLog+"\n===== footprint run --resume of run 20250101T000000Z-t, ") {
		t.Errorf("pulumi.log lost its earlier content or says nothing of the resume:\n%s", log)
	}
	if !strings.Contains(out.String(), "--resume: the results of bare-r1 were saved in "+filepath.Join(prev, "nodes")) {
		t.Errorf("the read-back is not said:\n%s", out.String())
	}
}

// An up that fails leaves no outputs: the results that arrived during it,
// saved in nodes/, are the record.
func TestAFailedUpKeepsTheResultsThatArrived(t *testing.T) {
	dir := testProject(t, "")
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}, upErr: errors.New("error: boom")}
	var out bytes.Buffer
	o := options(dir, &fakeBackend{}, s, &out)
	got, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "up of stack t failed") {
		t.Fatalf("error %v", err)
	}
	run, rerr := record.Read(got.RunDir)
	if rerr != nil || len(run.Nodes) != 2 || !allOK(run.Nodes) || len(run.NotRun) != 0 || run.ResultFiles["bare-r2"] != "nodes/bare-r2.json" {
		t.Errorf("record (%v): nodes %+v, not run %v, files %v", rerr, run.Nodes, run.NotRun, run.ResultFiles)
	}
}

// A node that runs again (its earlier attempt timed out) keeps the earlier
// attempt's result and console beside the new ones, and the record says
// which result is current.
func TestARerunKeepsTheEarlierAttemptsFiles(t *testing.T) {
	dir := testProject(t, "")
	timeout := map[string]any{"schemaVersion": 1.0, "node": "bare-r2", "profile": "bare", "status": string(results.StatusTimeout), "machine": map[string]any{"wave": 1.0}}
	first := map[string]string{
		"nodes/bare-r1.json":  savedJSON(t, okResult("bare-r1")),
		"nodes/bare-r2.json":  savedJSON(t, timeout),
		"bare-r2.console.log": "first attempt\n",
		"bare-r2.domain.xml":  "<domain/>\n",
	}
	prev := earlierRun(t, dir, []map[string]any{okResult("bare-r1"), timeout}, first)
	b := &fakeBackend{consoles: map[string]string{"bare-r2": "second attempt\nfootprint-agent: done\n"}}
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	var out bytes.Buffer
	got, err := Run(context.Background(), resumeOptions(dir, prev, b, s, &out))
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	for name, content := range first {
		if readFile(t, filepath.Join(prev, name)) != content {
			t.Errorf("%s changed", name)
		}
	}
	if r, err := readSaved(prev, "bare-r2.2.json", "bare-r2"); err != nil || r.Status != results.StatusOK {
		t.Errorf("the second attempt's result: %+v %v", r, err)
	}
	if readFile(t, filepath.Join(prev, "bare-r2.2.console.log")) != b.consoles["bare-r2"] {
		t.Error("the second attempt's console is not bare-r2.2.console.log")
	}
	if strings.Contains(out.String(), "--resume: the results of") {
		t.Errorf("a saved timeout was said to be read back and not run again:\n%s", out.String())
	}
	r2 := got.Run.Nodes[1]
	if r2.Status != results.StatusOK || r2.Collection == nil || r2.Collection.LastConsoleLine != "footprint-agent: done" || got.Run.ResultFiles["bare-r2"] != "nodes/bare-r2.2.json" {
		t.Errorf("record of bare-r2: %+v %+v, files %v", r2, r2.Collection, got.Run.ResultFiles)
	}
}

// The record is in the folder before the first machine is created, every
// node not run yet: a run that is killed outright (a second interrupt)
// leaves a folder that --resume reads back.
func TestTheRecordExistsBeforeTheFirstMachine(t *testing.T) {
	dir := testProject(t, "")
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	var atUp record.Run
	var readErr error
	s.afterUp = func() {
		folders, _ := filepath.Glob(filepath.Join(dir, "runs", "*"))
		if len(folders) != 1 {
			readErr = errors.New("no single run folder")
			return
		}
		atUp, readErr = record.Read(folders[0])
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), options(dir, &fakeBackend{}, s, &out)); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if readErr != nil || atUp.Stack != "t" || strings.Join(atUp.NotRun, ",") != "bare-r1,bare-r2" {
		t.Errorf("record during up (%v): %+v", readErr, atUp)
	}
}

// nodes/ and pulumi.log are the user's alone, as the rest of the folder
// (record.DirMode, record.FileMode).
func TestNodesAndPulumiLogAreTheUsers(t *testing.T) {
	dir := testProject(t, "")
	s := &fakeStack{outputs: map[string]any{"bare-r1": okResult("bare-r1"), "bare-r2": okResult("bare-r2")}}
	var out bytes.Buffer
	o := options(dir, &fakeBackend{}, s, &out)
	got, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for name, want := range map[string]os.FileMode{nodesDir: record.DirMode, "nodes/bare-r1.json": record.FileMode, "pulumi.log": record.FileMode} {
		if info, err := os.Stat(filepath.Join(got.RunDir, name)); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v (%v), want %v", name, info.Mode().Perm(), err, want)
		}
	}
}

// Only what this wave's program handed over is this wave's: a node of an
// earlier wave keeps its record, wave and all.
func TestAnEarlierUpsOutputsAreNotThisWaves(t *testing.T) {
	dir := testProject(t, "")
	r1 := okResult("bare-r1")
	r1["machine"].(map[string]any)["wave"] = 1.0
	prev := earlierRun(t, dir, []map[string]any{r1}, map[string]string{"nodes/bare-r1.json": savedJSON(t, r1)})
	s := &fakeStack{outputs: map[string]any{"bare-r2": okResult("bare-r2")}}
	var out bytes.Buffer
	got, err := Run(context.Background(), resumeOptions(dir, prev, &fakeBackend{}, s, &out))
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	if r := got.Run.Nodes[0]; r.Status != results.StatusOK || r.Machine == nil || r.Machine.Wave != 1 {
		t.Errorf("bare-r1's record became %+v %+v", r, r.Machine)
	}
}
