package runner

import (
	"context"
	"fmt"

	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/waves"
)

// schedule is what a run runs, wave after wave: the stack's matrix, or a
// search over sizes whose next waves depend on what the last ones found.
type schedule interface {
	// finished says why nothing is left to run, "" when something is.
	finished(run record.Run) string
	// about is what the run's first line says it runs.
	about() string
	// nodes are those the progress display lists from the start.
	nodes() []string
	// hosts are the hosts its waves go to, sorted.
	hosts() []string
	// drive runs the waves into run.
	drive(ctx context.Context, w *waveRunner, run *record.Run) (upErr, destroyErr error)
	// derive brings what the schedule derives from the nodes into run.
	derive(run *record.Run)
	// notRun are the nodes a --resume would run first.
	notRun(run record.Run) []string
	// ok: nothing is left to run and every finding is one.
	ok(run record.Run) bool
}

// newSchedule is the stack's schedule: its search where it has one, else
// the nodes of its matrix that run lacks, planned on the backend's hosts.
func newSchedule(ctx context.Context, o Options, p *infra.Prepared, all []machine.Spec, run record.Run) (schedule, error) {
	if p.Experiment.Search != nil {
		return newSearchSchedule(ctx, o, p, all, run)
	}
	m := &matrix{all: all, specs: lacking(all, run.Nodes)}
	if len(m.specs) == 0 {
		return m, nil
	}
	plan, err := planWaves(ctx, p.Backend, m.specs)
	if err != nil {
		return nil, err
	}
	if o.Keep && plan.Rounds > 1 {
		return nil, fmt.Errorf("--keep: the stack runs in %d waves, and only one can be kept; keep fewer nodes with --only", plan.Rounds)
	}
	m.plan = plan
	return m, nil
}

// matrix is every node of the stack that the run lacks, planned at once.
type matrix struct {
	all   []machine.Spec
	specs []machine.Spec // those the run lacks
	plan  waves.Plan
}

func (m *matrix) finished(record.Run) string {
	if len(m.specs) == 0 {
		return "every node of the stack has a result already"
	}
	return ""
}

func (m *matrix) about() string {
	return fmt.Sprintf("%d node(s) in %d wave(s)", len(m.specs), m.plan.Rounds)
}

func (m *matrix) nodes() []string { return nodeNames(m.specs) }

func (m *matrix) hosts() []string { return planHosts(m.plan) }

func (m *matrix) drive(ctx context.Context, w *waveRunner, run *record.Run) (upErr, destroyErr error) {
	for round := 1; round <= m.plan.Rounds; round++ {
		if ctx.Err() != nil {
			break
		}
		upErr, destroyErr = w.wave(ctx, run, m.plan, round, m.specs)
		if destroyErr != nil {
			break // the next wave would meet what this one left
		}
	}
	return upErr, destroyErr
}

func (m *matrix) derive(*record.Run) {}

func (m *matrix) notRun(run record.Run) []string { return nodeNames(lacking(m.all, run.Nodes)) }

func (m *matrix) ok(run record.Run) bool {
	return len(m.notRun(run)) == 0 && allOK(run.Nodes)
}
