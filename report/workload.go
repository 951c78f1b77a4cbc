package report

import (
	"strings"

	"github.com/footprint-dev/footprint/record"
)

// unknownWorkload names the workload of a record that does not say which
// image ran (written before records kept it): MySQL is only the default,
// and a report must not claim what it cannot know.
const unknownWorkload = "the workload"

// workloadImage is the workload image a run's record says ran, "" when it
// does not say.
func workloadImage(run record.Run) string {
	ref, _ := run.Experiment["workloadImage"].(string)
	return ref
}

// workloadName is how the report names the workload a run measured.
func workloadName(run record.Run) string { return imageName(workloadImage(run)) }

// imageName names a workload image by its repository without registry,
// owner, tag or digest ("docker.io/library/mariadb:11.4@sha256:…" is
// MariaDB).
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	// The last path element: a registry's port is in an earlier one.
	name, _, _ := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	// The images people name otherwise than they are spelled.
	switch name {
	case "":
		return unknownWorkload
	case "mysql":
		return "MySQL"
	case "mariadb":
		return "MariaDB"
	case "postgres":
		return "PostgreSQL"
	}
	return name
}
