package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/footprint-dev/footprint/artifacts/fetch"
	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/logs"
	"github.com/footprint-dev/footprint/names"
	"github.com/footprint-dev/footprint/profiles"
	"github.com/footprint-dev/footprint/runner"
)

// DefaultArtifactsDir is where `footprint artifacts fetch` puts the
// folders, in the project folder, unless --out says otherwise.
const DefaultArtifactsDir = "offline"

func artifactsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "artifacts",
		Short: "Offline installs: the files each profile's air-gapped install reads",
	}
	cmd.AddCommand(artifactsFetchCmd(g))
	return cmd
}

func artifactsFetchCmd(g *globalFlags) *cobra.Command {
	var out string
	var set []string
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Download, on a machine with internet, the artifacts of every profile of the stack, for an offline host",
		Long: "For every profile of the stack that declares artifacts, download them at the version the stack\n" +
			"pins into DIR/<profile>/, each checked against its published checksum (images from their\n" +
			"registry, saved as image archives; snaps with `snap download`, which needs snapd, each with\n" +
			"its signed assertion), and write DIR/<profile>/SHA256SUMS. A profile that runs the workload\n" +
			"also gets the stack's footprint:workloadImage as " + fetch.WorkloadArchive + ". Files already there\n" +
			"with the right digest are kept. Copy DIR to the offline host and set footprint:artifacts,\n" +
			"e.g. {k3s: " + DefaultArtifactsDir + "/k3s}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.options(cmd)
			if err != nil {
				return err
			}
			if out == "" {
				// Not artifacts/: that is the Go package.
				out = filepath.Join(o.ProjectDir, DefaultArtifactsDir)
			}
			if out, err = filepath.Abs(out); err != nil {
				return err
			}
			exp, err := fetchExperiment(o, set)
			if err != nil {
				return err
			}
			say := logs.Printf(o.Log)
			var folders []string
			seen := map[string]bool{}
			for _, listed := range exp.Profiles {
				name := exp.ProfileOf(listed) // a variant installs its profile's files
				p, _ := profiles.Get(name)    // Parse checked that it exists
				if len(p.Artifacts) == 0 || exp.Preinstalled[name] || seen[name] {
					continue
				}
				seen[name] = true
				version := exp.Version(name, p.DefaultVersion)
				dir := filepath.Join(out, name)
				workload := "" // fetch.Run adds it where the profile runs the workload
				if p.Hooks[profiles.HookWorkload] != "" {
					workload = " and the workload image " + exp.WorkloadImage
				}
				say("%s %s: %d artifact(s)%s into %s", name, version, len(p.Artifacts), workload, dir)
				err := fetch.Run(cmd.Context(), p, version, dir,
					fetch.Options{Log: say, WorkloadImage: exp.WorkloadImage})
				if err != nil {
					return fmt.Errorf("artifacts fetch: %w", err)
				}
				rel := dir
				if r, err := filepath.Rel(o.ProjectDir, dir); err == nil && !strings.HasPrefix(r, "..") {
					rel = r
				}
				folders = append(folders, name+": "+rel)
			}
			if len(folders) == 0 {
				return fmt.Errorf("artifacts fetch: no profile of stack %s declares artifacts (profiles: %s)",
					o.Stack, strings.Join(exp.Profiles, ", "))
			}
			say("done: copy %s to the offline host and set %s:%s: {%s}",
				out, config.Namespace, config.KeyArtifacts, strings.Join(folders, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder to fill, one subfolder per profile (default: "+DefaultArtifactsDir+"/ in the project folder)")
	cmd.Flags().StringArrayVar(&set, "set", nil, "override a stack key, as KEY=VALUE (repeatable)")
	return cmd
}

// fetchExperiment reads only the keys that choose what to fetch: the
// profiles, their versions, which are preinstalled, and the workload
// image. The rest (a local
// image, footprint:artifacts itself, which may name the very folders being
// fetched) belongs to the offline host and is not checked here.
func fetchExperiment(o runner.Options, set []string) (config.Experiment, error) {
	if err := profiles.LoadError(); err != nil {
		return config.Experiment{}, err
	}
	values, err := config.ReadStackFile(config.StackFile(o.ProjectDir, o.Stack))
	if err != nil {
		return config.Experiment{}, err
	}
	if err := config.ParseOverrides(values, set); err != nil {
		return config.Experiment{}, err
	}
	keep := map[string]string{}
	for _, k := range []string{config.KeyProfiles, config.KeyVersions, config.KeyPreinstalled, config.KeyWorkloadImage} {
		if v, ok := values[k]; ok {
			keep[k] = v
		}
	}
	return config.Parse(keep, infra.Source(names.Project, o.Stack, o.ProjectDir))
}
