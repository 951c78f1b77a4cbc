package profiles

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Variant is a built-in variant: a profile with some of its options chosen,
// shipped as a file of its own under a name users already know (the seed's
// "MicroK8s without HA" is microk8s-noha), so that the name keeps working
// wherever a profile's does, and is planned as a stack's variant would be.
type Variant struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	VariantOf   string   `yaml:"variantOf"`
	Options     []string `yaml:"options"`
}

// variants are the loaded built-in (and extra) variants by name.
var variants = map[string]Variant{}

// isVariantFile tells a variant's file from a profile's: it names the
// profile it is a variant of.
func isVariantFile(data []byte) bool {
	var head struct {
		VariantOf string `yaml:"variantOf"`
	}
	return yaml.Unmarshal(data, &head) == nil && head.VariantOf != ""
}

func parseVariant(name string, data []byte) (Variant, error) {
	var v Variant
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		return Variant{}, fmt.Errorf("variant %s: %w", name, err)
	}
	if v.Name != name {
		return Variant{}, fmt.Errorf("variant file %s.yaml names itself %q", name, v.Name)
	}
	if v.Description == "" || len(v.Options) == 0 {
		return Variant{}, fmt.Errorf("variant %s needs a description and options", name)
	}
	return v, nil
}

// checkVariants: every variant is of a profile (not of another variant)
// that declares its options, once each, without a conflict.
func checkVariants(variants map[string]Variant, known map[string]Profile) error {
	for _, name := range sortedNames(variants) {
		v := variants[name]
		base, ok := known[v.VariantOf]
		if !ok {
			return fmt.Errorf("variant %s: no profile %q to be a variant of", name, v.VariantOf)
		}
		for i, o := range v.Options {
			if slices.Contains(v.Options[:i], o) {
				return fmt.Errorf("variant %s: option %s is listed twice", name, o)
			}
		}
		p, err := base.With(v.Options)
		if err == nil {
			_, err = p.ChosenEnv()
		}
		if err != nil {
			return fmt.Errorf("variant %s: %w", name, err)
		}
	}
	return nil
}

// VariantOf is the built-in variant a name stands for, if it is one.
func VariantOf(name string) (Variant, bool) {
	ensureLoaded()
	v, ok := variants[name]
	return v, ok
}

func sortedNames[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
