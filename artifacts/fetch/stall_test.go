package fetch

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/profiles"
)

// A release server that sends a file's headers and part of it, then
// nothing, or a checksum's headers and nothing, fails the fetch once
// stallAfter passes without a byte: each error names the URL, without the
// signed query it was given, and nothing partial is left.
func TestFetchOfAStalledServerFails(t *testing.T) {
	defer func(old time.Duration) { stallAfter = old }(stallAfter)
	stallAfter = 200 * time.Millisecond
	const body = "an installer of some size"
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/file.sha256":
			io.WriteString(w, sha(body))
			return
		case "/file":
			w.Header().Set("Content-Length", "25")
			io.WriteString(w, body[:10])
		}
		w.(http.Flusher).Flush()
		<-release
	}))
	defer hs.Close()
	defer close(release) // before Close, which waits for the handlers
	for _, a := range []profiles.Artifact{
		{Path: "stalls-in-body", URL: hs.URL + "/file?X-Amz-Signature=s3cr3t", Checksum: hs.URL + "/file.sha256"},
		{Path: "stalls-in-checksum", URL: hs.URL + "/file", Checksum: hs.URL + "/silent.sha256?token=s3cr3t"},
	} {
		dir := t.TempDir()
		done := make(chan error, 1)
		go func() {
			done <- Run(context.Background(), profiles.Profile{Name: "fp", Artifacts: []profiles.Artifact{a}}, "v1", dir, Options{Client: testClient(), Attempts: 1})
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "sent nothing for 200ms: stalled") || !strings.Contains(err.Error(), "=REDACTED") ||
				strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: err = %v, want the stall naming the URL, redacted", a.Path, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the fetch from a stalled server is still waiting", a.Path)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: left %v", a.Path, left)
		}
	}
}
