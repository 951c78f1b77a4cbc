package aws

import (
	"context"
	"fmt"
	"testing"
)

// The sweep asks the region the stack's aws section names, whatever the
// shell's AWS_REGION or AWS_DEFAULT_REGION say: the stack's objects there
// go, another region's under the same prefix stay.
func TestSweepUsesTheStacksRegion(t *testing.T) {
	f, url := newFakeEC2(t)
	f.stack("footprint-cloud", 1)                // eu-west-1, the stack's
	f.stackIn("us-east-1", "footprint-cloud", 1) // the shell's
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	b, err := New("footprint-cloud", fmt.Sprintf(`{"region":"eu-west-1","sshFrom":"203.0.113.7","endpoint":%q}`, url))
	if err != nil {
		t.Fatal(err)
	}
	removed, err := b.Sweep(context.Background(), "footprint-cloud", func(string, ...any) {})
	if err != nil || len(removed) != 6 {
		t.Fatalf("removed %v, %v", removed, err)
	}
	if left := f.left(); len(left) != 0 {
		t.Errorf("left in eu-west-1: %v", left)
	}
	if left := f.leftIn("us-east-1"); len(left) != 6 {
		t.Errorf("left in us-east-1: %v, want the whole stack there", left)
	}
}
