// Package record is a run's record and its folder: results.json, the one
// document of a run that everything else (report.md, the CSV, the charts,
// a comparison) is rendered from, written atomically into a folder only
// its user can read. Package report renders it; it stores nothing.
package record

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/results"
	"github.com/footprint-dev/footprint/search"
)

// SchemaVersion is the version of a run's results.json (Run), apart from
// its nodes' results (results.AgentSchemaVersion).
const SchemaVersion = 1

// File is the record's file in a run folder.
const File = "results.json"

// Run is one run's record.
type Run struct {
	SchemaVersion int              `json:"schemaVersion"`
	ID            string           `json:"id"`
	Stack         string           `json:"stack"`
	StartedAt     time.Time        `json:"startedAt"`
	FinishedAt    time.Time        `json:"finishedAt,omitempty"`
	Experiment    map[string]any   `json:"experiment,omitempty"`
	Nodes         []results.Result `json:"nodes"`
	Timings       Timings          `json:"timings"`
	Errors        []string         `json:"errors,omitempty"`
	// NotRun are the planned nodes without a result yet (an interrupted
	// run, a lost host): `footprint run --resume` runs them.
	NotRun []string `json:"notRun,omitempty"`
	// Lost are the hosts that stopped answering during the run; what the
	// stack had on them stayed there.
	Lost []LostHost `json:"lost,omitempty"`
	// ResultFiles name, by node, the file in the folder holding the result
	// its record shows. A node run again keeps every earlier attempt's files
	// beside the new ones (nodes/NODE.json, then nodes/NODE.2.json, ...):
	// nothing measured is replaced.
	ResultFiles map[string]string `json:"resultFiles,omitempty"`
	// Search is a search's every size tried and each system's answer.
	Search *search.Record `json:"search,omitempty"`
}

// LostHost is a host that stopped answering in a wave: its machines could
// not be destroyed, its cells of that wave and of later ones did not run.
type LostHost struct {
	Host  string   `json:"host"`
	Wave  int      `json:"wave"`
	Error string   `json:"error"`
	Left  []string `json:"left,omitempty"` // the stack's resources forgotten on it
}

// Timings are the host's view of the run, in seconds.
type Timings struct {
	UpSeconds      float64 `json:"upSeconds,omitempty"`
	DestroySeconds float64 `json:"destroySeconds,omitempty"`
}

// The run folder's modes. Its results and logs name the hosts, their
// addresses and networks, and hold each guest's console and QEMU's command
// line: they are for the user who ran footprint, as the SSH key file is.
const (
	DirMode  os.FileMode = 0o700
	FileMode os.FileMode = 0o600
)

// Write stores the record as results.json in dir, replacing an earlier
// copy atomically so that an interrupted write never loses it. A folder
// made wider (by an earlier footprint, or one resumed) is narrowed before
// anything measured goes into it.
func Write(dir string, run Run) error {
	if err := os.Chmod(dir, DirMode); err != nil {
		return err
	}
	data, err := json.MarshalIndent(Normalize(run), "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, File), append(data, '\n'))
}

// Normalize sorts the nodes and computes what Go derives from the agents'
// raw readings (results.Result.Derive), on copies.
func Normalize(run Run) Run {
	run.SchemaVersion = SchemaVersion
	nodes := append([]results.Result(nil), run.Nodes...)
	for i := range nodes {
		nodes[i].Derive()
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Node < nodes[j].Node })
	run.Nodes = nodes
	return run
}

// Read loads a run folder's results.json.
func Read(dir string) (Run, error) {
	data, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return Run{}, err
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return Run{}, fmt.Errorf("%s: %w", filepath.Join(dir, File), err)
	}
	if run.SchemaVersion != SchemaVersion {
		return Run{}, fmt.Errorf("%s: schema version %d, want %d", filepath.Join(dir, File), run.SchemaVersion, SchemaVersion)
	}
	for i := range run.Nodes {
		run.Nodes[i].Derive()
	}
	return run, nil
}

// WriteFile writes a file of a run folder whole: into a temporary file of
// the folder's private mode, then renamed over the earlier one.
func WriteFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, FileMode); err != nil {
		return err
	}
	// A .tmp left by an interrupted write keeps its mode through WriteFile.
	if err := os.Chmod(tmp, FileMode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// CheckNodeNames refuses a run read from dir whose node names footprint
// would not make: the report writes NODE.timeline.svg for each, and a
// results.json from elsewhere could name a node "../x". Call it on what
// Read returns before writing anything into the folder.
func CheckNodeNames(dir string, run Run) error {
	for _, r := range run.Nodes {
		if err := names.CheckNode(r.Node); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, File), err)
		}
	}
	return nil
}
