package runner

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// footprint validate refuses a node whose user-data EC2 would refuse, in
// one line naming the node, as the program would before any resource; it
// plans with stand-ins of the run's secrets, so the size is a run's.
func TestValidateRefusesUserDataOverEC2sLimit(t *testing.T) {
	b := make([]byte, 30000)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, version, want string
	}{
		{"over", "v" + hex.EncodeToString(b), "footprint:aws: node bare: its user-data is "},
		{"within", "v1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
			yaml := "config:\n  footprint:backend: aws\n  footprint:aws:\n    region: eu-west-1\n" +
				"  footprint:profiles: [bare]\n  footprint:versions:\n    bare: \"" + tc.version + "\"\n"
			must(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.t.yaml"), []byte(yaml), 0o644))
			_, err := Validate(Options{ProjectDir: dir, Stack: "t"})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
				t.Errorf("error %v, want one line starting %q", err, tc.want)
			}
		})
	}
}
