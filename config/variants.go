package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/footprint-dev/footprint/names"
)

// KeyVariants names the stack's variants: systems measured with settings
// their profile declares, beside or instead of the profile's defaults.
const KeyVariants = "variants"

// Variant is a profile with some of the options it declares chosen, e.g.
// kubeadm-tuned: {profile: kubeadm, options: [ecdsaKeys, etcdCpuRequest]}.
// It is listed in footprint:profiles by its own name, and its nodes, results
// and report rows carry that name, so that a tuned figure is never taken
// for a default one.
type Variant struct {
	Profile string   `json:"profile"`
	Options []string `json:"options"`
}

// ProfileOf is the profile a name of footprint:profiles installs: the
// variant's profile, or the name itself.
func (e Experiment) ProfileOf(name string) string {
	if v, ok := e.Variants[name]; ok {
		return v.Profile
	}
	return name
}

// OptionsOf are the options a name of footprint:profiles chose: none for a
// profile.
func (e Experiment) OptionsOf(name string) []string {
	return e.Variants[name].Options
}

// measuresProfile reports whether some listed name installs the profile.
func (e Experiment) measuresProfile(profile string) bool {
	return slices.ContainsFunc(e.Profiles, func(n string) bool { return e.ProfileOf(n) == profile })
}

func parseVariants(e *Experiment, raw string, src Source) error {
	var m map[string]Variant
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("want a map of name: {profile: NAME, options: [OPTION, ...]}: %w", err)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := checkVariant(n, m[n], src); err != nil {
			return err
		}
	}
	e.Variants = m
	return nil
}

func checkVariant(name string, v Variant, src Source) error {
	// A variant's name starts its nodes' names: the rule is names'.
	if names.CheckNode(name) != nil {
		return fmt.Errorf("%s: not a name (lower-case letters, digits and dashes, starting with a letter)", name)
	}
	if src.ProfileExists != nil && src.ProfileExists(name) {
		return fmt.Errorf("%s: a profile has that name; a variant needs its own", name)
	}
	if err := src.profileKey(v.Profile); err != nil {
		return fmt.Errorf("%s.profile: %w", name, err)
	}
	if len(v.Options) == 0 {
		return fmt.Errorf("%s.options: empty (a variant chooses at least one option of %s)", name, v.Profile)
	}
	declared := []string(nil)
	if src.ProfileOptions != nil {
		declared = src.ProfileOptions(v.Profile)
	}
	seen := map[string]bool{}
	for _, o := range v.Options {
		if seen[o] {
			return fmt.Errorf("%s.options: %q is listed twice", name, o)
		}
		seen[o] = true
		if src.ProfileOptions != nil && !slices.Contains(declared, o) {
			return fmt.Errorf("%s.options: profile %s declares no option %q (it declares: %s)", name, v.Profile, o, orNone(declared))
		}
	}
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// builtinVariant is the built-in variant a name stands for, if any.
func (src Source) builtinVariant(name string) (Variant, bool) {
	if src.BuiltinVariant == nil {
		return Variant{}, false
	}
	return src.BuiltinVariant(name)
}

// profileKey checks a name where a profile is meant (a variant's profile,
// versions, preinstalled, artifacts): a built-in variant installs its
// profile, whose name says what is installed.
func (src Source) profileKey(name string) error {
	if src.ProfileExists != nil && !src.ProfileExists(name) {
		return fmt.Errorf("unknown profile %q", name)
	}
	if v, ok := src.builtinVariant(name); ok {
		return fmt.Errorf("%s is a variant of profile %s (options %s): name %s", name, v.Profile, strings.Join(v.Options, ", "), v.Profile)
	}
	return nil
}

// addBuiltinVariants: a listed name that is a built-in variant is planned as
// the stack's own variant would be.
func (e *Experiment) addBuiltinVariants(src Source) {
	for _, n := range e.Profiles {
		if v, ok := src.builtinVariant(n); ok {
			if e.Variants == nil {
				e.Variants = map[string]Variant{}
			}
			e.Variants[n] = v
		}
	}
}

// listVariants: a stack that lists no profiles measures every profile and
// then its variants.
func (e *Experiment) listVariants(values map[string]string) {
	if _, listed := values[KeyProfiles]; !listed {
		e.Profiles = append(e.Profiles, sortedKeys(e.Variants)...)
	}
}

// checkNames: every name of footprint:profiles is a profile or a variant,
// and every variant is measured.
func (e Experiment) checkNames(src Source) error {
	for _, n := range e.Profiles {
		if _, ok := e.Variants[n]; !ok && src.ProfileExists != nil && !src.ProfileExists(n) {
			return fmt.Errorf("%s:%s: unknown profile %q", Namespace, KeyProfiles, n)
		}
	}
	for _, n := range sortedKeys(e.Variants) {
		if !slices.Contains(e.Profiles, n) {
			return fmt.Errorf("%s:%s: variant %q is not among %s:%s", Namespace, KeyVariants, n, Namespace, KeyProfiles)
		}
	}
	return nil
}

func sortedKeys(m map[string]Variant) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkPreinstalledOptions: a variant of a system the image already has
// installs nothing, so only the profile's configure hook can apply its
// options; without one the variant would measure the defaults under its
// name.
func (e Experiment) checkPreinstalledOptions(src Source) error {
	for _, n := range e.Profiles {
		v, ok := e.Variants[n]
		if !ok || !e.Preinstalled[v.Profile] {
			continue
		}
		if !hookSet(v.Profile, src)("configure") {
			return fmt.Errorf("%s:%s: %s.options: profile %s is preinstalled and has no configure hook to apply %s to it",
				Namespace, KeyVariants, n, v.Profile, strings.Join(v.Options, ", "))
		}
	}
	return nil
}
