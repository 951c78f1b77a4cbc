package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

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
			run, err := report.Read(dir)
			if err != nil {
				return err
			}
			if err := report.CheckNodeNames(dir, run); err != nil {
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
// with deltas per system and VM size.
func compareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare RUN_A RUN_B",
		Short: "Compare two run folders: used memory idle and with MySQL, API verdict, per system and VM size",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := report.Read(args[0])
			if err != nil {
				return err
			}
			b, err := report.Read(args[1])
			if err != nil {
				return err
			}
			c := report.Compare(a, b)
			if !asJSON {
				_, err = fmt.Fprint(cmd.OutOrStdout(), c.Markdown())
				return err
			}
			data, err := c.JSON()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of markdown")
	return cmd
}
