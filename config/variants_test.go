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

// builtinSource knows microk8s (option noHA) and its built-in variant
// microk8s-noha, as the profiles registry ships them.
func builtinSource(t *testing.T) Source {
	src := variantSource(t)
	src.ProfileExists = func(n string) bool { return n == "bare" || n == "microk8s" || n == "microk8s-noha" }
	src.ProfileOptions = func(p string) []string {
		if p == "microk8s" {
			return []string{"noHA"}
		}
		return nil
	}
	src.BuiltinVariant = func(n string) (Variant, bool) {
		if n == "microk8s-noha" {
			return Variant{Profile: "microk8s", Options: []string{"noHA"}}, true
		}
		return Variant{}, false
	}
	src.DefaultProfiles = []string{"bare", "microk8s", "microk8s-noha"}
	return src
}

// A built-in variant's name keeps working in footprint:profiles, listed or
// by default, and is planned as a stack's variant: its profile installs.
func TestABuiltinVariantIsPlannedAsAVariant(t *testing.T) {
	for _, values := range []map[string]string{
		{"profiles": `["microk8s","microk8s-noha"]`},
		{},
	} {
		e, err := Parse(values, builtinSource(t))
		if err != nil {
			t.Fatal(err)
		}
		if e.ProfileOf("microk8s-noha") != "microk8s" || !slices.Equal(e.OptionsOf("microk8s-noha"), []string{"noHA"}) ||
			e.ProfileOf("microk8s") != "microk8s" || e.OptionsOf("microk8s") != nil {
			t.Errorf("%v: microk8s-noha is %s with %v", values, e.ProfileOf("microk8s-noha"), e.OptionsOf("microk8s-noha"))
		}
		if n := strings.Count(strings.Join(e.Profiles, " "), "microk8s-noha"); n != 1 {
			t.Errorf("%v: profiles %v", values, e.Profiles)
		}
	}
	// Its profile's settings apply to it.
	if _, err := Parse(map[string]string{"profiles": `["microk8s-noha"]`, "artifacts": `{"microk8s":"adir"}`,
		"versions": `{"microk8s":"1.35/stable"}`}, builtinSource(t)); err != nil {
		t.Errorf("settings of the variant's profile: %v", err)
	}
}

// Where a profile is meant, a built-in variant's name is refused with the
// profile to name instead.
func TestABuiltinVariantIsNoProfileOfSettings(t *testing.T) {
	for key, value := range map[string]string{
		"versions":     `{"microk8s-noha":"1.35/stable"}`,
		"preinstalled": `["microk8s-noha"]`,
		"artifacts":    `{"microk8s-noha":"adir"}`,
		"variants":     `{"lean":{"profile":"microk8s-noha","options":["noHA"]}}`,
	} {
		_, err := Parse(map[string]string{"profiles": `["microk8s-noha","lean"]`, key: value}, builtinSource(t))
		if err == nil || !strings.Contains(err.Error(), "footprint:"+key+": ") ||
			!strings.Contains(err.Error(), "microk8s-noha is a variant of profile microk8s (options noHA): name microk8s") {
			t.Errorf("%s: %v", key, err)
		}
	}
	_, err := Parse(map[string]string{"profiles": `["microk8s-noha"]`,
		"variants": `{"microk8s-noha":{"profile":"microk8s","options":["noHA"]}}`}, builtinSource(t))
	if err == nil || !strings.Contains(err.Error(), "microk8s-noha: a profile has that name") {
		t.Errorf("a stack variant named like a built-in one: %v", err)
	}
}

// A variant of a preinstalled system needs its profile's configure hook:
// without one its options would never be applied and the defaults would be
// measured under the variant's name.
func TestAPreinstalledVariantNeedsAConfigureHook(t *testing.T) {
	values := map[string]string{"profiles": `["docker","v"]`, "preinstalled": `["docker"]`,
		"variants": `{"v":{"profile":"docker","options":["noUserlandProxy"]}}`}
	src := variantSource(t)
	src.ProfileHooks = func(string) []string { return []string{"install", "ready"} }
	_, err := Parse(values, src)
	want := "footprint:variants: v.options: profile docker is preinstalled and has no configure hook to apply noUserlandProxy to it"
	if err == nil || err.Error() != want {
		t.Errorf("without configure: %v\nwant %s", err, want)
	}
	src.ProfileHooks = func(string) []string { return []string{"install", "configure", "ready"} }
	if _, err := Parse(values, src); err != nil {
		t.Errorf("with configure: %v", err)
	}
	delete(values, "preinstalled")
	src.ProfileHooks = func(string) []string { return []string{"install", "ready"} }
	if _, err := Parse(values, src); err != nil {
		t.Errorf("installed by the run, options need no configure: %v", err)
	}
}
