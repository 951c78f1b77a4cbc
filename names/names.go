// Package names builds every name footprint gives: the stack's prefix, the
// nodes of the matrix and their machines, and reads a node's name back. A
// backend derives its own objects' names (pools, networks, volumes, cloud
// tags) from the prefix and a machine's name, never from anything else.
package names

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Project is the Pulumi project; with the stack it prefixes every name.
const Project = "footprint"

// Owned tells whether a name is one footprint gives: it starts with the
// project and a dash.
func Owned(name string) bool { return strings.HasPrefix(name, Project+"-") }

// Prefix starts every name of one stack's objects, so that two stacks (or
// two projects) never collide and a sweep finds what is ours.
func Prefix(project, stack string) string { return project + "-" + stack }

// Node names one cell of the matrix: the profile alone for the seed's
// single run, with "-<size>m" when the stack sweeps sizes and "-r<repeat>"
// when it repeats.
func Node(profile string, sizeMiB, repeat int, sweep, repeated bool) string {
	name := profile
	if sweep {
		name += fmt.Sprintf("-%dm", sizeMiB)
	}
	if repeated {
		name += fmt.Sprintf("-r%d", repeat)
	}
	return name
}

// nodeName is every name Node makes from a variant's name or a built-in
// profile's, size and repeat included: lower-case letters, digits and
// single dashes, starting with a letter (config's variant names are these).
var nodeName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// CheckNode refuses a node name Node would not make. A record from
// elsewhere is read back with its names, and files are named after them:
// "../x" or "a/b" would leave the run folder.
func CheckNode(node string) error {
	if !nodeName.MatchString(node) {
		return fmt.Errorf("node %q is not a name footprint makes (lower-case letters, digits and single dashes, starting with a letter)", node)
	}
	return nil
}

// Machine is a node's name on the host, unique there: hostname of nothing,
// but the key every backend object of the node starts with.
func Machine(prefix, node string) string { return prefix + "-" + node }

// Cell is what a node's name says: SizeMiB and Repeat are 0 where the name
// does not carry them.
type Cell struct {
	Profile string
	SizeMiB int
	Repeat  int
}

// ParseNode reads a name Node built. A profile whose own name ends like a
// size or repeat ("x-r2") is ambiguous; the machine record settles it.
func ParseNode(node string) Cell {
	c := Cell{Profile: node}
	if i := strings.LastIndex(c.Profile, "-r"); i > 0 {
		if v, err := strconv.Atoi(c.Profile[i+2:]); err == nil && v > 0 && digits(c.Profile[i+2:]) {
			c.Repeat, c.Profile = v, c.Profile[:i]
		}
	}
	if i := strings.LastIndex(c.Profile, "-"); i > 0 && strings.HasSuffix(c.Profile, "m") {
		if s := c.Profile[i+1 : len(c.Profile)-1]; digits(s) {
			c.SizeMiB, _ = strconv.Atoi(s)
			c.Profile = c.Profile[:i]
		}
	}
	return c
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
