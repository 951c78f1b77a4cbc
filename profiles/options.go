package profiles

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Option is one setting of a system that its project documents (or that
// footprint's own evidence motivates, as for kubeadm on a slow vCPU),
// declared by the profile so that a variant can choose it. Choosing it sets
// the environment its hooks read; a profile without any chosen renders
// exactly as its project's defaults.
type Option struct {
	Description string `yaml:"description"`
	// Source is where the setting is documented, or the evidence for it.
	Source string `yaml:"source"`
	// Env are the shell variables the profile's hooks read, set above its
	// functions when the option is chosen.
	Env map[string]string `yaml:"env"`
	// Units, when set, are the systemd units the profile runs with the
	// option chosen, in place of its own: an option that swaps daemons
	// (MicroK8s without HA: etcd and flannel for dqlite) changes what the
	// agent accounts.
	Units []string `yaml:"units"`
}

var optionName = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func (p *Profile) checkOptions() error {
	for name, o := range p.Options {
		if !optionName.MatchString(name) {
			return fmt.Errorf("option %q: a name is lowerCamelCase letters and digits", name)
		}
		if o.Description == "" || o.Source == "" || len(o.Env) == 0 {
			return fmt.Errorf("option %s needs a description, a source and env", name)
		}
		for k := range o.Env {
			if !envName.MatchString(k) {
				return fmt.Errorf("option %s: %q is not a shell variable name (upper case)", name, k)
			}
		}
		if slices.Contains(o.Units, "") {
			return fmt.Errorf("option %s: an empty unit name", name)
		}
	}
	return nil
}

// OptionNames lists the options a profile declares, sorted; none for an
// unknown profile or a built-in variant (a variant is not a profile to
// choose options of).
func OptionNames(profile string) []string {
	ensureLoaded()
	p := loaded[profile]
	names := make([]string, 0, len(p.Options))
	for n := range p.Options {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// With is the profile with the named options chosen, in the order given,
// and the units they run, if one says.
func (p Profile) With(options []string) (Profile, error) {
	var units []string
	from := ""
	for _, o := range options {
		opt, ok := p.Options[o]
		if !ok {
			return Profile{}, fmt.Errorf("profile %s declares no option %q", p.Name, o)
		}
		if len(opt.Units) == 0 {
			continue
		}
		if units != nil && !slices.Equal(units, opt.Units) {
			return Profile{}, fmt.Errorf("options %s and %s both set the units", from, o)
		}
		units, from = opt.Units, o
	}
	p.Chosen = slices.Clone(options)
	if units != nil {
		p.Units = slices.Clone(units)
	}
	return p, nil
}

// ChosenEnv is the environment of the chosen options as sorted NAME=VALUE
// pairs; two options that set one variable differently are a conflict.
func (p Profile) ChosenEnv() ([]string, error) {
	env := map[string]string{}
	from := map[string]string{}
	for _, o := range p.Chosen {
		for k, v := range p.Options[o].Env {
			if old, ok := env[k]; ok && old != v {
				return nil, fmt.Errorf("options %s and %s both set %s", from[k], o, k)
			}
			env[k], from[k] = v, o
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// optionsScript is the shell that sets the chosen options' variables.
func (p Profile) optionsScript() string {
	env, _ := p.ChosenEnv() // a conflict is refused when the variant is planned
	if len(env) == 0 {
		return ""
	}
	var b strings.Builder
	// A no-op command, not a comment: what a guest got says which options
	// were chosen, and comments are not shipped (guest.Shipped).
	fmt.Fprintf(&b, ": options chosen: %s\n", strings.Join(p.Chosen, " "))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString(k + "=" + shellQuote(v) + "\n")
	}
	return b.String()
}
