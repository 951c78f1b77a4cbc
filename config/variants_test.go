package config

import (
	"slices"
	"strings"
	"testing"
)

// variantSource knows bare (no options) and docker (two options).
func variantSource(t *testing.T) Source {
	src := testSource(t)
	src.ProfileOptions = func(p string) []string {
		if p == "docker" {
			return []string{"liveRestore", "noUserlandProxy"}
		}
		return nil
	}
	return src
}

func TestVariantsAreMeasuredBesideTheirProfile(t *testing.T) {
	e, err := Parse(map[string]string{
		"profiles": `["docker","docker-lean"]`,
		"variants": `{"docker-lean":{"profile":"docker","options":["noUserlandProxy","liveRestore"]}}`,
	}, variantSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.ProfileOf("docker-lean") != "docker" || e.ProfileOf("docker") != "docker" {
		t.Errorf("ProfileOf: %q %q", e.ProfileOf("docker-lean"), e.ProfileOf("docker"))
	}
	// The stack's order of options is kept: it is what the result records.
	if got := e.OptionsOf("docker-lean"); !slices.Equal(got, []string{"noUserlandProxy", "liveRestore"}) || e.OptionsOf("docker") != nil {
		t.Errorf("OptionsOf: %v", got)
	}
	if e.NodeCount() != 2 {
		t.Errorf("%d nodes, want 2", e.NodeCount())
	}
}

func TestAStackWithoutProfilesMeasuresItsVariantsToo(t *testing.T) {
	e, err := Parse(map[string]string{
		"variants": `{"docker-lean":{"profile":"docker","options":["liveRestore"]}}`,
	}, variantSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.Profiles, []string{"bare", "docker-lean"}) {
		t.Errorf("profiles %v, want the defaults and the variant", e.Profiles)
	}
}

func TestAVariantsProfileSettingsApply(t *testing.T) {
	src := variantSource(t)
	_, err := Parse(map[string]string{
		"profiles":  `["docker-lean"]`,
		"variants":  `{"docker-lean":{"profile":"docker","options":["liveRestore"]}}`,
		"artifacts": `{"docker":"adir"}`,
	}, src)
	if err != nil {
		t.Errorf("artifacts of a variant's profile: %v", err)
	}
}

func TestBadVariantsFailWithOneLineNamingTheKey(t *testing.T) {
	cases := []struct {
		name, profiles, variants, want string
	}{
		{"undeclared option", `["v"]`, `{"v":{"profile":"docker","options":["turbo"]}}`,
			`footprint:variants: v.options: profile docker declares no option "turbo" (it declares: liveRestore, noUserlandProxy)`},
		{"option of another profile", `["v"]`, `{"v":{"profile":"bare","options":["liveRestore"]}}`,
			`footprint:variants: v.options: profile bare declares no option "liveRestore" (it declares: none)`},
		{"no options", `["v"]`, `{"v":{"profile":"docker","options":[]}}`, `footprint:variants: v.options: empty`},
		{"option twice", `["v"]`, `{"v":{"profile":"docker","options":["liveRestore","liveRestore"]}}`, `footprint:variants: v.options: "liveRestore" is listed twice`},
		{"unknown profile", `["v"]`, `{"v":{"profile":"k9s","options":["x"]}}`, `footprint:variants: v.profile: unknown profile "k9s"`},
		{"a profile's name", `["docker"]`, `{"docker":{"profile":"docker","options":["liveRestore"]}}`, `footprint:variants: docker: a profile has that name`},
		{"not a name", `["v"]`, `{"V_1":{"profile":"docker","options":["liveRestore"]}}`, `footprint:variants: V_1: not a name`},
		{"unknown field", `["v"]`, `{"v":{"profile":"docker","option":["liveRestore"]}}`, `footprint:variants: want a map`},
		{"not measured", `["docker"]`, `{"v":{"profile":"docker","options":["liveRestore"]}}`, `footprint:variants: variant "v" is not among footprint:profiles`},
		{"unknown name in profiles", `["w"]`, `{"v":{"profile":"docker","options":["liveRestore"]}}`, `footprint:profiles: unknown profile "w"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(map[string]string{"profiles": c.profiles, "variants": c.variants}, variantSource(t))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line starting %q", err, c.want)
			}
		})
	}
}
