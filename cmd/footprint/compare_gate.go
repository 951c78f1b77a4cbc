package main

import (
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/footprint-dev/footprint/report"
)

// exitRegression is compare's status when RUN_B fails the gate against the
// baseline RUN_A: distinct from 1, so that CI tells a regression from a
// broken invocation.
const exitRegression = 4

// The threshold flags: each phase takes its own flag if given, else the
// one for both phases.
const (
	flagMaxMiB      = "max-growth-mib"
	flagMaxPct      = "max-growth-pct"
	flagIdleMiB     = "idle-max-growth-mib"
	flagIdlePct     = "idle-max-growth-pct"
	flagWorkloadMiB = "workload-max-growth-mib"
	flagWorkloadPct = "workload-max-growth-pct"
	flagAllowAPI    = "allow-api-worse"
)

func addGateFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.Float64(flagMaxMiB, 0, "gate: fail a system whose used memory, idle or with the workload, grew by more than this many MiB from RUN_A, the baseline")
	fs.Float64(flagMaxPct, 0, "gate: fail a system whose used memory grew by more than this per cent of RUN_A's; with --max-growth-mib, only past both")
	fs.Float64(flagIdleMiB, 0, "gate: --max-growth-mib for idle alone, in its stead")
	fs.Float64(flagIdlePct, 0, "gate: --max-growth-pct for idle alone, in its stead")
	fs.Float64(flagWorkloadMiB, 0, "gate: --max-growth-mib for with the workload alone, in its stead")
	fs.Float64(flagWorkloadPct, 0, "gate: --max-growth-pct for with the workload alone, in its stead")
	fs.Bool(flagAllowAPI, false, "gate: let the API verdict after the workload be worse than RUN_A's")
}

// gateRules are the gate the flags ask for; nil when no threshold is given,
// and compare only compares, as it did before there was a gate.
func gateRules(cmd *cobra.Command) (*report.GateRules, error) {
	limits := map[string]*float64{}
	for _, name := range []string{flagMaxMiB, flagMaxPct, flagIdleMiB, flagIdlePct, flagWorkloadMiB, flagWorkloadPct} {
		v, err := limit(cmd, name)
		if err != nil {
			return nil, err
		}
		if v != nil {
			limits[name] = v
		}
	}
	allow, err := cmd.Flags().GetBool(flagAllowAPI)
	if err != nil {
		return nil, err
	}
	if len(limits) == 0 {
		if allow {
			return nil, fmt.Errorf("--%s: only with a gate: give --%s or --%s (or a phase's own)", flagAllowAPI, flagMaxMiB, flagMaxPct)
		}
		return nil, nil
	}
	first := func(names ...string) *float64 {
		for _, n := range names {
			if v := limits[n]; v != nil {
				return v
			}
		}
		return nil
	}
	return &report.GateRules{
		Idle:          report.Threshold{MiB: first(flagIdleMiB, flagMaxMiB), Pct: first(flagIdlePct, flagMaxPct)},
		Workload:      report.Threshold{MiB: first(flagWorkloadMiB, flagMaxMiB), Pct: first(flagWorkloadPct, flagMaxPct)},
		AllowAPIWorse: allow,
	}, nil
}

// limit is a threshold flag's value, nil when not given.
func limit(cmd *cobra.Command, name string) (*float64, error) {
	if !cmd.Flags().Changed(name) {
		return nil, nil
	}
	v, err := cmd.Flags().GetFloat64(name)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	if !(v >= 0) || math.IsInf(v, 1) {
		return nil, fmt.Errorf("--%s %v: want a number of 0 or more", name, v)
	}
	return &v, nil
}

// gateExit names each failing cell on stderr, one line each, and makes the
// exit status say whether RUN_B passed.
func gateExit(cmd *cobra.Command, g *report.Gate) error {
	if g == nil || g.Passed {
		return nil
	}
	for _, c := range g.Cells {
		if c.Failed() {
			fmt.Fprintln(cmd.ErrOrStderr(), "footprint: "+g.Line(c))
		}
	}
	return exitError{code: exitRegression, msg: "gate " + g.Summary()}
}
