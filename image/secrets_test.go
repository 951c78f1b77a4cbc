package image

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// An image URL with a user's password and a signed query downloads with
// them, and is recorded without them: the resolved reference, what it was
// verified against and every error.
func TestImageCredentialsAreNotRecorded(t *testing.T) {
	img := rawDisk()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "ops" || pass != "hunter2" || r.URL.Query().Get("X-Amz-Signature") != "s3cr3t" {
			http.Error(w, "who are you", http.StatusForbidden)
			return
		}
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			w.Write([]byte(digest(img) + "  disk.img\n"))
			return
		}
		w.Write(img)
	}))
	defer srv.Close()
	ref := strings.Replace(srv.URL, "http://", "http://ops:hunter2@", 1) + "/disk.img?X-Amz-Signature=s3cr3t"
	r, err := Resolve(context.Background(), ref, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, recorded := range []string{r.Ref, r.Verified} {
		if strings.Contains(recorded, "hunter2") || strings.Contains(recorded, "s3cr3t") || !strings.Contains(recorded, "ops:REDACTED@") {
			t.Errorf("recorded %q", recorded)
		}
	}
	_, err = Resolve(context.Background(), ref, digest([]byte("another")), t.TempDir())
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a mismatch says %v", err)
	}
	wrong := strings.Replace(ref, "hunter2", "hunter3", 1)
	_, err = Resolve(context.Background(), wrong, "", t.TempDir())
	if err == nil || strings.Contains(err.Error(), "hunter3") || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "cannot be fetched: HTTP 403") {
		t.Errorf("a refused download says %v", err)
	}
}

// A server that sends its headers and some bytes, then nothing, or that
// takes the connection and never answers, fails the download once
// stallAfter has passed without a byte, naming the URL without its secret.
func TestStalledDownloadFails(t *testing.T) {
	defer func(old time.Duration) { stallAfter = old }(stallAfter)
	stallAfter = 300 * time.Millisecond
	release := make(chan struct{})
	halfway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA256SUMS") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "4096")
		w.Write(rawDisk()[:1024])
		w.(http.Flusher).Flush()
		<-release
	}))
	defer halfway.Close()
	defer close(release) // before Close, which waits for the handler
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, base := range []string{halfway.URL, "http://" + silent.Addr().String()} {
		ref := base + "/disk.img?sig=s3cr3t"
		done := make(chan error, 1)
		go func() {
			_, err := Resolve(context.Background(), ref, "", t.TempDir())
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "stalled") || !strings.Contains(err.Error(), "/disk.img?sig=REDACTED") || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%s: err = %v, want the stall naming the URL, redacted", base, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the download of a stalled server is still waiting", base)
		}
	}
}
