//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/results"
)

// RefreshFixturesEnv, set to 1, makes the real-cluster test rewrite the
// stub's recorded API answers from the answers of its real API server.
const RefreshFixturesEnv = "FOOTPRINT_REFRESH_FIXTURES"

// checkAPIFixtures holds the unit tests' stub to the real API server: each
// answer the stub gives (guest/testdata/k8s-api) must have the status line,
// the header names and the body formatting that the real server gave this
// run's hooks for the same request, and the not-ready and ready answers
// must differ as the real ones did. What the server gave is kept in
// build/k8s-api-recorded either way.
func checkAPIFixtures(t *testing.T, r results.Result) {
	t.Helper()
	fixtures := filepath.Join(repoRoot(t), "guest", "testdata", "k8s-api")
	recorded := filepath.Join(repoRoot(t), "build", "k8s-api-recorded")
	must(t, os.MkdirAll(recorded, 0o755))
	real := map[string]string{}
	for _, a := range r.APIAnswers {
		name := fixtureName(a.Path, a.Which)
		real[name] = a.HTTP
		must(t, os.WriteFile(filepath.Join(recorded, name), []byte(a.HTTP), 0o644))
	}
	stubbed, err := filepath.Glob(filepath.Join(fixtures, "*.http"))
	must(t, err)
	if len(stubbed) == 0 {
		t.Fatalf("no fixtures in %s", fixtures)
	}
	for _, f := range stubbed {
		name := filepath.Base(f)
		got, ok := real[name]
		if !ok {
			t.Errorf("the stub answers %s, but the real server was not asked for it (it answered %v)", name, keys(real))
			continue
		}
		if os.Getenv(RefreshFixturesEnv) == "1" {
			must(t, os.WriteFile(f, []byte(got), 0o644))
			continue
		}
		data, err := os.ReadFile(f)
		must(t, err)
		if d := answerShape(string(data)).differs(answerShape(got)); d != "" {
			t.Errorf("fixture %s no longer answers as the real API server does: %s (%s=1 rewrites it from this run)", name, d, RefreshFixturesEnv)
		}
	}
}

// fixtureName is the stub's file for a path's first or last answer, named
// as profiles/lib/kubernetes.sh names it.
func fixtureName(path, which string) string {
	name := regexp.MustCompile(`[^A-Za-z0-9._]`).ReplaceAllString(strings.TrimPrefix(path, "/"), "-")
	return name + "." + which + ".http"
}

// shape is what of an answer must match: everything but the values that
// change with every request (ids, dates, lengths, resource versions).
type shape struct {
	status  string
	headers []string
	pretty  bool
	ready   bool
}

func answerShape(http string) shape {
	head, body, _ := strings.Cut(strings.ReplaceAll(http, "\r\n", "\n"), "\n\n")
	lines := strings.Split(head, "\n")
	s := shape{status: strings.TrimSpace(lines[0])}
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			k = strings.ToLower(k)
			if k == "content-type" {
				k += "=" + strings.TrimSpace(v)
			}
			s.headers = append(s.headers, k)
		}
	}
	slices.Sort(s.headers)
	s.pretty = strings.HasPrefix(body, "{\n  \"")
	s.ready = regexp.MustCompile(`"readyReplicas"\s*:\s*[1-9]`).MatchString(body)
	return s
}

func (a shape) differs(b shape) string {
	switch {
	case a.status != b.status:
		return "status " + a.status + " against " + b.status
	case !slices.Equal(a.headers, b.headers):
		return "headers " + strings.Join(a.headers, ",") + " against " + strings.Join(b.headers, ",")
	case a.pretty != b.pretty:
		return "JSON formatting (pretty-printed) differs"
	case a.ready != b.ready:
		return "readiness differs"
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func osexec(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
