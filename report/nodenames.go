package report

import (
	"fmt"
	"path/filepath"

	"github.com/footprint-dev/footprint/names"
)

// CheckNodeNames refuses a run read from dir whose node names footprint
// would not make: Render writes NODE.timeline.svg for each, and a
// results.json from elsewhere could name a node "../x". Call it on what
// Read returns before writing anything into the folder.
func CheckNodeNames(dir string, run Run) error {
	for _, r := range run.Nodes {
		if err := names.CheckNode(r.Node); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, ResultsFile), err)
		}
	}
	return nil
}
