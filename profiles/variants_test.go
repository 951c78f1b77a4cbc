package profiles

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// microk8s-noha keeps working by name: it is MicroK8s with noHA chosen, the
// units that option runs, and no options of its own to choose.
func TestMicroK8sNoHAIsABuiltinVariant(t *testing.T) {
	v, ok := VariantOf("microk8s-noha")
	if !ok || v.VariantOf != "microk8s" || !slices.Equal(v.Options, []string{"noHA"}) {
		t.Fatalf("VariantOf(microk8s-noha) = %+v, %v", v, ok)
	}
	p, ok := Get("microk8s-noha")
	if !ok || !Exists("microk8s-noha") || p.Name != "microk8s" || !slices.Equal(p.Chosen, []string{"noHA"}) {
		t.Fatalf("Get(microk8s-noha) = %s chose %v, %v", p.Name, p.Chosen, ok)
	}
	if !slices.Contains(p.Units, "snap.microk8s.daemon-etcd.service") || slices.Contains(p.Units, "snap.microk8s.daemon-k8s-dqlite.service") {
		t.Errorf("units %v, want etcd's and not dqlite's", p.Units)
	}
	if base, _ := Get("microk8s"); base.Chosen != nil || !slices.Contains(base.Units, "snap.microk8s.daemon-k8s-dqlite.service") {
		t.Errorf("microk8s itself changed: chose %v, units %v", base.Chosen, base.Units)
	}
	if got := OptionNames("microk8s-noha"); len(got) != 0 {
		t.Errorf("a variant declares options %v", got)
	}
	if slices.Contains(All(), "microk8s-noha") || !slices.Contains(Names(), "microk8s-noha") {
		t.Errorf("All %v lists the variant, or the default experiment %v lacks it", All(), Names())
	}
}

func TestVariantFilesAreChecked(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown field", "name: v\ndescription: d\nvariantOf: p\noptions: [a]\nhooks: {}\n", "field hooks not found"},
		{"no options", "name: v\ndescription: d\nvariantOf: p\n", "needs a description and options"},
		{"no description", "name: v\nvariantOf: p\noptions: [a]\n", "needs a description and options"},
		{"another name", "name: w\ndescription: d\nvariantOf: p\noptions: [a]\n", `names itself "w"`},
	} {
		if _, err := parseVariant("v", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	p := Profile{Name: "p", Options: map[string]Option{
		"a": {Env: map[string]string{"P_X": "1"}}, "b": {Env: map[string]string{"P_X": "2"}},
	}}
	known := map[string]Profile{"p": p}
	for _, c := range []struct {
		v    Variant
		want string
	}{
		{Variant{Name: "v", VariantOf: "q", Options: []string{"a"}}, `no profile "q"`},
		{Variant{Name: "v", VariantOf: "v0", Options: []string{"a"}}, `no profile "v0"`}, // a variant of a variant
		{Variant{Name: "v", VariantOf: "p", Options: []string{"c"}}, `declares no option "c"`},
		{Variant{Name: "v", VariantOf: "p", Options: []string{"a", "a"}}, "listed twice"},
		{Variant{Name: "v", VariantOf: "p", Options: []string{"a", "b"}}, "both set P_X"},
	} {
		vs := map[string]Variant{"v0": {Name: "v0", VariantOf: "p", Options: []string{"a"}}, "v": c.v}
		if err := checkVariants(vs, known); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.v, err, c.want)
		}
	}
	if !isVariantFile([]byte("name: v\nvariantOf: p\n")) || isVariantFile([]byte("name: p\nhooks: {}\n")) {
		t.Error("isVariantFile tells them apart wrongly")
	}
}

// An option that swaps daemons swaps the units the agent accounts; two that
// disagree are refused.
func TestOptionUnits(t *testing.T) {
	p := Profile{Name: "p", Units: []string{"a.service"}, Options: map[string]Option{
		"swap":  {Env: map[string]string{"P_S": "1"}, Units: []string{"b.service"}},
		"same":  {Env: map[string]string{"P_T": "1"}, Units: []string{"b.service"}},
		"other": {Env: map[string]string{"P_O": "1"}, Units: []string{"c.service"}},
		"plain": {Env: map[string]string{"P_P": "1"}},
	}}
	q, err := p.With([]string{"plain", "swap", "same"})
	if err != nil || !slices.Equal(q.Units, []string{"b.service"}) || !slices.Equal(p.Units, []string{"a.service"}) {
		t.Errorf("With: %v units %v (profile's %v)", err, q.Units, p.Units)
	}
	if q, _ := p.With([]string{"plain"}); !slices.Equal(q.Units, []string{"a.service"}) {
		t.Errorf("an option without units changed them: %v", q.Units)
	}
	if _, err := p.With([]string{"swap", "other"}); err == nil || !strings.Contains(err.Error(), "both set the units") {
		t.Errorf("conflicting units: %v", err)
	}
}

// A profile takes only the options it declares: another profile's, or an
// unknown one, is refused.
func TestAProfileRefusesOptionsItDoesNotDeclare(t *testing.T) {
	for _, name := range All() {
		p, _ := Get(name)
		if _, err := p.With([]string{"turbo"}); err == nil {
			t.Errorf("%s took an unknown option", name)
		}
		for _, other := range All() {
			for _, opt := range OptionNames(other) {
				if _, own := p.Options[opt]; own {
					continue
				}
				if _, err := p.With([]string{opt}); err == nil || !strings.Contains(err.Error(), "declares no option") {
					t.Errorf("%s took %s's option %s: %v", name, other, opt, err)
				}
			}
		}
	}
}

// A folder of extra profiles (FOOTPRINT_PROFILES_DIR) may bring variants
// too, of its own profiles or of built-in ones; a name already built in is
// refused. Loading happens once per process, so each case runs in a child.
func TestExtraFolderBringsVariants(t *testing.T) {
	if dir := os.Getenv(ExtraDirEnv); dir != "" && os.Getenv("FOOTPRINT_TEST_CHILD") == "1" {
		fmt.Print("loaded: ", LoadError())
		if v, ok := Get("x-fast"); ok {
			fmt.Printf(" x-fast=%s%v", v.Name, v.Chosen)
		}
		if v, ok := Get("k3s-bare"); ok {
			fmt.Printf(" k3s-bare=%s%v", v.Name, v.Chosen)
		}
		return
	}
	child := func(files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestExtraFolderBringsVariants$")
		cmd.Env = append(os.Environ(), ExtraDirEnv+"="+dir, "FOOTPRINT_TEST_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	const x = "name: x\ndescription: d\nhooks:\n  install: \"true\"\noptions:\n  fast: {description: d, source: s, env: {X_FAST: \"1\"}}\n"
	out := child(map[string]string{
		"x":        x,
		"x-fast":   "name: x-fast\ndescription: d\nvariantOf: x\noptions: [fast]\n",
		"k3s-bare": "name: k3s-bare\ndescription: d\nvariantOf: k3s\noptions: [disableAddons, disableCoreDNS]\n",
	})
	if !strings.Contains(out, "loaded: <nil> x-fast=x[fast] k3s-bare=k3s[disableAddons disableCoreDNS]") {
		t.Errorf("child said %q", out)
	}
	for name, body := range map[string]string{
		"microk8s-noha": "name: microk8s-noha\ndescription: d\nvariantOf: microk8s\noptions: [noHA]\n",
		"k3s-turbo":     "name: k3s-turbo\ndescription: d\nvariantOf: k3s\noptions: [turbo]\n",
	} {
		if out := child(map[string]string{name: body}); strings.Contains(out, "loaded: <nil>") {
			t.Errorf("%s: loaded without an error: %q", name, out)
		}
	}
}
