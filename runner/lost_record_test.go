package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/record"
)

// A resume whose backend cannot sweep a host alone does not go on as if the
// lost hosts' leftovers were removed: the run's record would forget them.
func TestLostHostsStayRecordedWhenTheyCannotBeSwept(t *testing.T) {
	prev := []record.LostHost{{Host: hostB, Wave: 2, Left: []string{string(urn("t-bare-r2"))}}}
	err := sweepLostHosts(context.Background(), nil, &fakeBackend{}, "footprint-t", prev, func(string, ...any) {})
	if err == nil || !strings.Contains(err.Error(), hostB+" (lost in wave 2)") || !strings.Contains(err.Error(), "the run's record keeps them") {
		t.Errorf("err = %v", err)
	}
}
