package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/report"
)

// reportCmd is `footprint report RUN_DIR`: re-renders a run folder's
// report.md, results.csv and chart.svg from its results.json.
func reportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Re-render report.md, results.csv and chart.svg of a run folder from its results.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			run, err := record.Read(dir)
			if err != nil {
				return err
			}
			if err := record.CheckNodeNames(dir, run); err != nil {
				return err
			}
			if err := report.Render(dir, run); err != nil {
				return err
			}
			for _, f := range []string{report.ReportFile, report.CSVFile, report.ChartFile} {
				fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(dir, f))
			}
			return nil
		},
	}
}

// compareCmd is `footprint compare RUN_A RUN_B`: both runs side by side,
// with deltas per system and VM size; with thresholds (compare_gate.go), a
// gate holding RUN_B to the baseline RUN_A.
func compareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare RUN_A RUN_B",
		Short: "Compare two run folders (or their results.json): used memory idle and with the workload, API verdict, per system and VM size",
		Long: "Compare two run folders (or their results.json): used memory idle and with the workload, API verdict, per system and VM size.\n\n" +
			"With --max-growth-mib or --max-growth-pct (or a phase's own), RUN_B is gated against the baseline RUN_A: the exit status is 4 when a system grew " +
			"past its thresholds beyond the spread of repeats, its API got worse, or it lost figures RUN_A had, each named on stderr; " +
			"0 when none did; 1 on errors.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rules, err := gateRules(cmd)
			if err != nil {
				return err
			}
			a, err := report.ReadRun(args[0])
			if err != nil {
				return err
			}
			b, err := report.ReadRun(args[1])
			if err != nil {
				return err
			}
			c := report.Compare(a, b)
			if rules != nil {
				c.Gate = c.Judge(*rules)
			}
			if !asJSON {
				if _, err := fmt.Fprint(cmd.OutOrStdout(), c.Markdown()); err != nil {
					return err
				}
				return gateExit(cmd, c.Gate)
			}
			data, err := c.JSON()
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(data); err != nil {
				return err
			}
			return gateExit(cmd, c.Gate)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of markdown")
	addGateFlags(cmd)
	return cmd
}
