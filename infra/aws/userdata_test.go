package aws

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/footprint-dev/footprint/infra/machine"
)

func spec(node, userData string) machine.Spec {
	return machine.Spec{Node: node, CloudInit: machine.CloudInit{UserData: userData}}
}

// What EC2 gets is the user-data, whole, as gzip that cloud-init detects;
// the same user-data gives the same bytes, so an unchanged node is never
// replaced for it.
func TestUserDataIsGzipInBase64(t *testing.T) {
	text := "#cloud-config\n" + strings.Repeat("write_files: [] # the agent's script\n", 1000)
	encoded, err := encodeUserData(spec("bare", text))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) >= len(text)/10 {
		t.Errorf("%d bytes of text compressed to %d", len(text), len(raw))
	}
	r, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(r)
	if err != nil || string(back) != text || r.Name != "" || !r.ModTime.IsZero() {
		t.Errorf("read back %d bytes (%v), header name %q time %v", len(back), err, r.Name, r.ModTime)
	}
	if again, _ := encodeUserData(spec("bare", text)); again != encoded {
		t.Error("the same user-data encoded twice differs")
	}
}

// A node whose user-data is over EC2's limit even compressed fails in one
// line that names the node and the sizes.
func TestUserDataOverEC2sLimitIsRefused(t *testing.T) {
	b := make([]byte, MaxUserData)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	text := hex.EncodeToString(b)
	_, err := encodeUserData(spec("kubeadm-r2", text))
	want := fmt.Sprintf("footprint:aws: node kubeadm-r2: its user-data is %%d bytes gzip-compressed (%d as text), over EC2's limit of 16384", len(text))
	var size int
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if _, scanErr := fmt.Sscanf(err.Error(), want, &size); scanErr != nil || size <= MaxUserData {
		t.Errorf("err = %v, want %q", err, want)
	}
}
